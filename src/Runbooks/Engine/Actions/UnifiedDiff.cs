namespace Runbooks.Engine;

/// <summary>A unified diff of two texts, line by line, three lines of context: what a reviewer reads in a plan.</summary>
public static class UnifiedDiff
{
    private const int Context = 3;

    // The table is lines × lines; past this a plan says how much changed instead of diffing.
    private const long MaxCells = 4_000_000;

    /// <example><c>UnifiedDiff.Lines("/etc/fstab", before, after)</c></example>
    public static IReadOnlyList<string> Lines(string path, string before, string after, bool beforeExists = true)
    {
        var a = Split(before);
        var b = Split(after);
        if ((long)a.Length * b.Length > MaxCells)
        {
            return [$"--- {path}", $"+++ {path}", $"@@ {a.Length} lines replaced by {b.Length} lines (too large to diff here) @@"];
        }

        var edits = Edits(a, b);
        if (edits.All(e => e.Op == ' '))
        {
            return [];
        }

        var lines = new List<string> { beforeExists ? $"--- {path}" : "--- /dev/null", $"+++ {path}" };
        var changes = Enumerable.Range(0, edits.Count).Where(i => edits[i].Op != ' ').ToList();
        var group = 0;
        while (group < changes.Count)
        {
            // A hunk runs on while the next change is within two contexts of the last one.
            var last = group;
            while (last + 1 < changes.Count && changes[last + 1] - changes[last] <= 2 * Context)
            {
                last++;
            }

            var start = Math.Max(0, changes[group] - Context);
            var stop = Math.Min(edits.Count, changes[last] + Context + 1);
            var hunk = edits.GetRange(start, stop - start);
            var oldCount = hunk.Count(e => e.Op != '+');
            var newCount = hunk.Count(e => e.Op != '-');
            var oldStart = oldCount == 0 ? hunk[0].OldLine - 1 : hunk.First(e => e.Op != '+').OldLine;
            var newStart = newCount == 0 ? hunk[0].NewLine - 1 : hunk.First(e => e.Op != '-').NewLine;
            lines.Add($"@@ -{oldStart},{oldCount} +{newStart},{newCount} @@");
            lines.AddRange(hunk.Select(e => e.Op + e.Text));
            group = last + 1;
        }

        return lines;
    }

    private static string[] Split(string text) =>
        text.Length == 0 ? [] : (text.EndsWith('\n') ? text[..^1] : text).Split('\n');

    private readonly record struct Edit(char Op, string Text, int OldLine, int NewLine);

    // The longest common subsequence, then a walk from the front: unchanged lines, removals, additions.
    private static List<Edit> Edits(string[] a, string[] b)
    {
        var common = new int[a.Length + 1, b.Length + 1];
        for (var i = a.Length - 1; i >= 0; i--)
        {
            for (var j = b.Length - 1; j >= 0; j--)
            {
                common[i, j] = a[i] == b[j] ? common[i + 1, j + 1] + 1 : Math.Max(common[i + 1, j], common[i, j + 1]);
            }
        }

        var edits = new List<Edit>();
        int x = 0, y = 0;
        while (x < a.Length || y < b.Length)
        {
            if (x < a.Length && y < b.Length && a[x] == b[y])
            {
                edits.Add(new Edit(' ', a[x], x + 1, y + 1));
                x++;
                y++;
            }
            else if (x < a.Length && (y == b.Length || common[x + 1, y] >= common[x, y + 1]))
            {
                // Removals before additions, as diff -u prints a changed line.
                edits.Add(new Edit('-', a[x], x + 1, y + 1));
                x++;
            }
            else
            {
                edits.Add(new Edit('+', b[y], x + 1, y + 1));
                y++;
            }
        }

        return edits;
    }
}
