using Runbooks.Commands;

namespace Runbooks.Tests.Commands;

public class CommandTests
{
    [Test]
    public void Rendering_quotes_what_a_shell_would_split_and_masks_secrets()
    {
        var key = Secret.Of("kJ8s7dF6gH5jK4lZ3xC2vB1nM0qW9eR8tY7uI6oP5a4=");
        var command = new Command("wg", ["set", "wg 0", "private-key", key, "it's"]);

        Assert.That(command.Render(), Is.EqualTo("wg set 'wg 0' private-key *** 'it'\\''s'"));
        Assert.That(command.Arguments[3].Reveal(), Is.EqualTo(key.Reveal()));
    }

    [Test]
    public void A_secret_on_stdin_is_not_shown()
    {
        var command = new Command("wg", ["pubkey"]).WithStdin(Secret.Of("a-private-value-123"));

        Assert.That(command.Render(), Is.EqualTo("wg pubkey <<< ***"));
    }

    [Test]
    public void Text_that_echoes_a_secret_is_redacted()
    {
        var secret = Secret.Of("hunter2-but-longer");

        Assert.That(SecretRedactor.Redact($"error: bad key hunter2-but-longer at line 3"), Is.EqualTo("error: bad key *** at line 3"));
        Assert.That(secret.ToString(), Is.EqualTo("***"));
    }

    [Test]
    public void A_program_with_spaces_is_refused_so_nobody_passes_a_shell_line()
    {
        Assert.Throws<ArgumentException>(() => _ = new Command("rm -rf /", []));
    }

    [Test]
    public void With_methods_return_new_values_and_leave_the_original_alone()
    {
        var original = new Command("sleep", ["1"]);
        var changed = original.WithTimeout(TimeSpan.FromSeconds(3)).AsReadOnly();

        Assert.That(original.ReadOnly, Is.False);
        Assert.That(original.Timeout, Is.EqualTo(Command.DefaultTimeout));
        Assert.That(changed.Timeout, Is.EqualTo(TimeSpan.FromSeconds(3)));
    }

    [Test]
    public void Shell_script_passes_values_as_positional_parameters()
    {
        var command = Shell.Script("ls -l -- \"$1\"", "/data; rm -rf /");

        Assert.That(command.Arguments.Select(a => a.Reveal()), Is.EqualTo(new[] { "-c", "ls -l -- \"$1\"", "runbook-sh", "/data; rm -rf /" }));
    }
}
