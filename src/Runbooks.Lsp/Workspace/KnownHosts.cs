using System.Collections.Immutable;
using System.Diagnostics.CodeAnalysis;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.Diagnostics;
using Runbooks.Analyzers;
using Runbooks.Engine;

namespace Runbooks.Lsp.Workspace;

/// <summary>
/// The hosts a script's <c>.On("…")</c> may name: <c>local</c>, an inventory's and those the scenarios beside the
/// script declare. <paramref name="Sources"/> names the files they came from; with none, nothing is known beyond
/// <c>local</c> and RB006 stays quiet (the hosts will come from the command line).
/// </summary>
internal sealed record KnownHosts(IReadOnlyList<InventoryEntry> Entries, ImmutableArray<string> Sources)
{
    public static KnownHosts LocalOnly { get; } = new([new InventoryEntry(Inventory.DefaultHost, "local", "")], []);

    /// <summary>What RB006 is given: the names and their files as global analyzer options; no options when nothing is known.</summary>
    public AnalyzerOptions AnalyzerOptions() =>
        Sources.IsEmpty
            ? new AnalyzerOptions([])
            : new AnalyzerOptions([], new GlobalOptionsProvider(new Dictionary<string, string>(StringComparer.Ordinal)
            {
                [UnknownHostAnalyzer.KnownHostsOption] = string.Join(",", Entries.Select(e => e.Name).Distinct(StringComparer.Ordinal)),
                [UnknownHostAnalyzer.OriginOption] = string.Join(" or ", Sources.Select(Path.GetFileName)),
            }));

    private sealed class GlobalOptionsProvider(IReadOnlyDictionary<string, string> values) : AnalyzerConfigOptionsProvider
    {
        private readonly Options _options = new(values);

        public override AnalyzerConfigOptions GlobalOptions => _options;

        public override AnalyzerConfigOptions GetOptions(SyntaxTree tree) => _options;

        public override AnalyzerConfigOptions GetOptions(AdditionalText textFile) => _options;

        private sealed class Options(IReadOnlyDictionary<string, string> values) : AnalyzerConfigOptions
        {
            public override bool TryGetValue(string key, [NotNullWhen(true)] out string? value) => values.TryGetValue(key, out value);
        }
    }
}
