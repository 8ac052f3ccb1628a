using Runbooks.Transport;

namespace Runbooks.Engine;

/// <summary>
/// Builds an inventory from <c>--host</c> values (<c>URI</c> for the default host, or <c>NAME=URI</c>) and an
/// optional inventory file (one <c>NAME = URI</c> per line, <c>#</c> comments). Without either: <c>local</c>.
/// </summary>
public static class InventoryParser
{
    public static Inventory Parse(IReadOnlyList<string> hosts, string? inventoryFile, IReadOnlyList<(string Name, string Address, string Origin)>? recorded = null)
    {
        // Addresses a journal recorded come first, so the inventory file and --host override them; one transport per name.
        var entries = ((IEnumerable<(string Name, string Address, string Origin)>)[.. recorded ?? [], .. Entries(hosts, inventoryFile)])
            .GroupBy(e => e.Name, StringComparer.Ordinal).Select(g => g.Last()).ToList();
        var inventory = new Inventory();
        var problems = new List<string>();
        foreach (var (name, address, origin) in entries)
        {
            try
            {
                inventory.Add(name, TransportUri.Create(address));
            }
            catch (RunbookException ex)
            {
                problems.Add($"{origin}: {ex.Message}");
            }
            catch (ArgumentException ex)
            {
                // An address that does not parse (ssh://root@h;id) is a usage error, not a crash with a stack trace.
                problems.Add($"{origin}: host '{name}': {ex.Message}");
            }
        }

        if (problems.Count > 0)
        {
            throw new InvalidRunbookException(problems);
        }

        if (!inventory.Contains(Inventory.DefaultHost))
        {
            inventory.Add(Inventory.DefaultHost, new LocalTransport());
        }

        return inventory;
    }

    /// <summary>
    /// The <c>NAME = URI</c> pairs of the inventory file, then of <c>--host</c> (a later one wins), each with where
    /// it was written; a malformed line or host name is an error naming it. Addresses are not parsed here.
    /// </summary>
    public static IReadOnlyList<(string Name, string Address, string Origin)> Entries(IReadOnlyList<string> hosts, string? inventoryFile)
    {
        var entries = new List<(string Name, string Address, string Origin)>();
        if (inventoryFile is not null)
        {
            entries.AddRange(ReadFile(inventoryFile).Select(e => (e.Name, e.Address, e.Origin)));
        }

        foreach (var host in hosts)
        {
            var equals = host.IndexOf('=', StringComparison.Ordinal);
            var schemeAt = host.IndexOf(':', StringComparison.Ordinal);
            var named = equals > 0 && (schemeAt < 0 || equals < schemeAt);
            entries.Add(named ? (host[..equals], host[(equals + 1)..], "--host") : (Inventory.DefaultHost, host, "--host"));
        }

        var problems = entries
            .Where(e => !System.Text.RegularExpressions.Regex.IsMatch(e.Name, "^[A-Za-z0-9][A-Za-z0-9_.-]*$"))
            .Select(e => $"{e.Origin}: host name '{e.Name}' must be letters, digits, '.', '_' or '-'")
            .ToList();
        return problems.Count > 0 ? throw new InvalidRunbookException(problems) : entries;
    }

    /// <summary>
    /// The <c>NAME = ADDRESS</c> lines of an inventory file, not yet checked or connected: what <c>runbook lsp</c>
    /// offers inside <c>.On("…")</c>, and what <see cref="Parse"/> builds transports from.
    /// </summary>
    public static IReadOnlyList<InventoryEntry> ReadFile(string inventoryFile)
    {
        string[] lines;
        try
        {
            lines = System.IO.File.ReadAllLines(inventoryFile);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw new InvalidRunbookException($"cannot read inventory {inventoryFile}: {ex.Message}");
        }

        var entries = new List<InventoryEntry>();
        for (var i = 0; i < lines.Length; i++)
        {
            var line = lines[i].Split('#')[0].Trim();
            if (line.Length == 0)
            {
                continue;
            }

            var equals = line.IndexOf('=', StringComparison.Ordinal);
            if (equals <= 0)
            {
                throw new InvalidRunbookException($"{inventoryFile}:{i + 1}: expected 'NAME = ADDRESS', found '{line}'");
            }

            entries.Add(new InventoryEntry(line[..equals].Trim(), line[(equals + 1)..].Trim(), $"{inventoryFile}:{i + 1}"));
        }

        return entries;
    }
}

/// <summary>One line of an inventory file.</summary>
/// <param name="Name">The host's name, as <c>.On("NAME")</c> uses it.</param>
/// <param name="Address">Where it is reached: <c>local</c>, <c>ssh://…</c>, <c>netns:…</c>.</param>
/// <param name="Origin">FILE:LINE, for errors.</param>
public sealed record InventoryEntry(string Name, string Address, string Origin);
