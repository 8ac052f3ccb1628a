namespace Runbooks.Harness.Drill;

/// <summary>
/// The faults of each drill round: a non-empty subset of the candidate break targets, drawn from a seed so that
/// the same seed replays the same drill. SplitMix64 rather than <see cref="Random"/>: its sequence is fixed by
/// its definition, not by a runtime version.
/// </summary>
public static class FaultChooser
{
    /// <summary>The subsets for <paramref name="rounds"/> rounds, each in the candidates' order.</summary>
    public static IReadOnlyList<IReadOnlyList<string>> Choose(IReadOnlyList<string> candidates, int rounds, ulong seed)
    {
        if (candidates.Count is 0 or > 63)
        {
            throw new InvalidRunbookException($"a drill chooses among 1 to 63 break targets; this scenario has {candidates.Count}");
        }

        var state = seed;
        var all = (1UL << candidates.Count) - 1;
        var chosen = new List<IReadOnlyList<string>>(rounds);
        for (var round = 0; round < rounds; round++)
        {
            ulong mask;
            do
            {
                mask = Next(ref state) & all;
            }
            while (mask == 0);

            chosen.Add([.. candidates.Where((_, i) => (mask & (1UL << i)) != 0)]);
        }

        return chosen;
    }

    private static ulong Next(ref ulong state)
    {
        var z = state += 0x9E3779B97F4A7C15UL;
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }
}
