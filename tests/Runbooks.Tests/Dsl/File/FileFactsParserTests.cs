using Runbooks.Dsl;

namespace Runbooks.Tests.Dsl.File;

public class FileFactsParserTests
{
    [TestCase("regular file|644|root|adm|1234\n", "regular file", "0644", 1234)]
    [TestCase("directory|2750|app|app|4096\n", "directory", "2750", 4096)]
    [TestCase("regular empty file|600|root|root|0\n", "regular empty file", "0600", 0)]
    public void Stat_output_becomes_facts(string stdout, string kind, string mode, long size)
    {
        var facts = FileFactsParser.Parse("/x", 0, stdout, "");

        Assert.That((facts.Exists, facts.Kind, facts.Mode, facts.Size), Is.EqualTo((true, kind, mode, size)));
    }

    [Test]
    public void A_missing_file_is_a_fact_not_an_error()
    {
        var facts = FileFactsParser.Parse("/nope", 1, "", "stat: cannot statx '/nope': No such file or directory\n");

        Assert.That(facts.Exists, Is.False);
    }

    [Test]
    public void Permission_denied_is_an_error_naming_the_path()
    {
        var ex = Assert.Throws<RunbookException>(() => FileFactsParser.Parse("/root/x", 1, "", "stat: cannot statx '/root/x': Permission denied\n"));

        Assert.That(ex!.Message, Does.Contain("/root/x").And.Contain("Permission denied"));
    }

    [TestCase("relative/path")]
    [TestCase("/etc/../shadow")]
    [TestCase("/tmp/a\nb")]
    public void Unsafe_paths_are_rejected_when_the_runbook_is_defined(string path)
    {
        Assert.Throws<ArgumentException>(() => Runbooks.Dsl.File.Content(path, "x"));
    }

    [TestCase("999")]
    [TestCase("rwx")]
    public void A_mode_that_is_not_octal_is_rejected(string mode)
    {
        Assert.Throws<ArgumentException>(() => Runbooks.Dsl.File.Directory("/tmp/x", mode));
    }
}
