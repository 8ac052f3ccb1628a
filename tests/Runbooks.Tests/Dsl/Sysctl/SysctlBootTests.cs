using Runbooks.Dsl;

namespace Runbooks.Tests.Dsl.Sysctl;

/// <summary>The boot order <c>sysctl --system</c> applies (checked against the real tool in SysctlBootOrderTests).</summary>
public sealed class SysctlBootTests
{
    [Test]
    public void Files_sort_by_name_across_directories_with_etc_masking_a_package_file_and_sysctl_conf_last()
    {
        var listing = "/usr/lib/sysctl.d/10-arch.conf\n/usr/lib/sysctl.d/50-default.conf\n/etc/sysctl.d/50-default.conf\n/run/sysctl.d/20-test.conf\n/lib/sysctl.d/10-arch.conf\n/usr/local/lib/sysctl.d/zz.conf\n/etc/sysctl.d/99-sysctl.conf\n";

        Assert.That(SysctlBoot.Order(listing, mainFileExists: true), Is.EqualTo(new[]
        {
            "/usr/lib/sysctl.d/10-arch.conf", "/run/sysctl.d/20-test.conf", "/etc/sysctl.d/50-default.conf", "/etc/sysctl.d/99-sysctl.conf", "/usr/local/lib/sysctl.d/zz.conf", "/etc/sysctl.conf",
        }));
    }

    [Test]
    public void Comments_and_other_keys_are_not_settings_and_each_setting_has_its_line()
    {
        var text = "# net.core.somaxconn = 1\n; net.core.somaxconn = 2\nnet.core.somaxconn_x = 3\n\n net.core.somaxconn=  4096 \nnet/core/somaxconn = 5\n";

        Assert.That(SysctlBoot.Settings("/etc/sysctl.conf", text, "net.core.somaxconn").Select(s => (s.Line, s.Value)), Is.EqualTo(new[] { (5, "4096"), (6, "5") }));
    }
}
