using System.Diagnostics;
using System.Globalization;
using System.Text;
using Runbooks.Commands;

namespace Runbooks.Transport;

/// <summary>
/// Runs commands inside a running container through its engine. Like SSH's kept connection, one session per host —
/// <c>podman exec --interactive NAME sh -c SERVER</c> (or <c>docker exec</c>) — carries every command: a new
/// <c>exec</c> per command costs the engine's start-up (≈0.3 s, more under load), a command through the session a few
/// forks inside the container. Each command's argv, environment and stdin travel base64-encoded, one per line, so no
/// value is ever parsed by a shell; its exit code, stdout and stderr come back whole. The engine's own failures (no
/// such container, one that stopped) are transport errors naming the container; the command's exit code is otherwise
/// its own, as over SSH. A timeout ends the session (the next command opens another).
/// </summary>
/// <example><c>await using var web = new ContainerTransport("web", "rb1a2b3c-web", "podman");</c></example>
public sealed class ContainerTransport : ITransport
{
    // A fresh host's root PATH, as NetnsTransport gives its hosts: an image's own ENV PATH may be narrower.
    private const string HostPath = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

    // Reads "ARGC", ARGC base64 lines (env NAME=VALUE… PROGRAM ARGS…) and a stdin line ("-": none, else base64), runs it
    // with stdout and stderr to files, answers "rb-exit CODE OUTBYTES ERRBYTES" and the bytes. The trailing x keeps an
    // argument's own final newlines from command substitution.
    internal const string Server = """
        while IFS= read -r argc; do
            set --
            i=0
            while [ "$i" -lt "$argc" ]; do
                IFS= read -r b
                a=$(printf %s "$b" | base64 -d; echo x)
                set -- "$@" "${a%x}"
                i=$((i + 1))
            done
            IFS= read -r stdin
            d=$(mktemp -d "${TMPDIR:-/tmp}/runbook-exec.XXXXXX")
            if [ "$stdin" = - ]; then : > "$d/in"; else printf %s "$stdin" | base64 -d > "$d/in"; fi
            "$@" < "$d/in" > "$d/out" 2> "$d/err"
            rc=$?
            printf 'rb-exit %s %s %s\n' "$rc" "$(wc -c < "$d/out")" "$(wc -c < "$d/err")"
            cat "$d/out" "$d/err"
            rm -rf "$d"
        done
        """;

    private readonly IReadOnlyList<string> _launch;
    private readonly SemaphoreSlim _gate = new(1, 1);
    private Session? _session;

    /// <param name="name">The inventory host name, shown in messages.</param>
    /// <param name="container">The container's name or ID as the engine knows it.</param>
    /// <param name="engine">The engine's program: <c>podman</c> or <c>docker</c>.</param>
    public ContainerTransport(string name, string container, string engine)
        : this(name, container, engine, [engine, "exec", "--interactive", container, "sh", "-c", Server])
    {
    }

    /// <summary>Tests start the session with <paramref name="launch"/> instead (e.g. a local <c>sh -c SERVER</c>).</summary>
    internal ContainerTransport(string name, string container, string engine, IReadOnlyList<string> launch)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        ArgumentException.ThrowIfNullOrWhiteSpace(container);
        ArgumentException.ThrowIfNullOrWhiteSpace(engine);
        Name = name;
        Container = container;
        Engine = engine;
        _launch = launch;
    }

    public string Name { get; }

    /// <summary>The container's name or ID.</summary>
    public string Container { get; }

    /// <summary>The engine's program, <c>podman</c> or <c>docker</c>.</summary>
    public string Engine { get; }

    /// <summary>
    /// From an inventory address: <c>container:NAME</c> (podman when it is installed, else docker) or
    /// <c>container:NAME?engine=docker</c>.
    /// </summary>
    /// <example><c>ContainerTransport.FromAddress("container:web")</c></example>
    public static ContainerTransport FromAddress(string address)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(address);
        var rest = address.StartsWith("container:", StringComparison.Ordinal) ? address["container:".Length..] : address;
        var query = rest.IndexOf("?engine=", StringComparison.Ordinal);
        var container = query >= 0 ? rest[..query] : rest;
        var engine = query >= 0 ? rest[(query + "?engine=".Length)..] : DefaultEngine();
        if (container.Length == 0 || !char.IsAsciiLetterOrDigit(container[0]) || !container.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.'))
        {
            throw new InvalidRunbookException($"host address '{address}': expected container:NAME (a running container's name or ID: letters, digits, '-', '_', '.') or container:NAME?engine=podman|docker");
        }

        if (engine is not ("podman" or "docker"))
        {
            throw new InvalidRunbookException($"host address '{address}': the engine is podman or docker, not '{engine}'");
        }

        return new ContainerTransport(container, container, engine);
    }

    /// <summary>podman when it is on PATH, else docker when that is, else podman (whose absence the first command then reports).</summary>
    public static string DefaultEngine() =>
        OnPath("podman") ? "podman" : OnPath("docker") ? "docker" : "podman";

    /// <summary>Whether an executable of that name is on this process's PATH.</summary>
    public static bool OnPath(string program) =>
        (Environment.GetEnvironmentVariable("PATH") ?? "").Split(':', StringSplitOptions.RemoveEmptyEntries)
            .Any(d => System.IO.File.Exists(System.IO.Path.Combine(d, program)));

    /// <summary>What the session is sent for a command: the argv through <c>env</c> with PATH, then stdin.</summary>
    internal static string Request(Command command)
    {
        var environment = command.Environment.ContainsKey("PATH") ? command.Environment : command.Environment.SetItem("PATH", HostPath);
        string[] argv =
        [
            "env", .. environment.OrderBy(e => e.Key, StringComparer.Ordinal).Select(e => $"{e.Key}={e.Value}"),
            command.Program, .. command.Arguments.Select(a => a.Reveal()),
        ];
        var request = new StringBuilder().Append(argv.Length.ToString(CultureInfo.InvariantCulture)).Append('\n');
        foreach (var arg in argv)
        {
            request.Append(Convert.ToBase64String(Encoding.UTF8.GetBytes(arg))).Append('\n');
        }

        return request.Append(command.Stdin is { } stdin ? Convert.ToBase64String(Encoding.UTF8.GetBytes(stdin.Reveal())) : "-").Append('\n').ToString();
    }

    public async Task<CommandResult> RunAsync(Command command, CancellationToken cancellationToken)
    {
        await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            timeout.CancelAfter(command.Timeout);
            var started = DateTimeOffset.UtcNow;
            var session = _session ??= Session.Start(_launch, this, command);
            try
            {
                var (exit, stdout, stderr) = await session.RunAsync(Request(command), timeout.Token).ConfigureAwait(false);
                return new CommandResult(exit, stdout, stderr, started, DateTimeOffset.UtcNow);
            }
            catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
            {
                EndSession();
                throw new TransportException(Name, command, $"timed out after {command.Timeout.TotalSeconds:0.#} s; the session into container '{Container}' was closed (the command may still run there); raise the step's timeout if the tool is just slow");
            }
            catch (EndOfStreamException)
            {
                var why = await session.EndedBecauseAsync().ConfigureAwait(false);
                EndSession();
                throw new TransportException(Name, command, $"{Engine} could not run it in container '{Container}': {why}; `{Engine} ps -a --filter name={Container}` shows whether it still runs");
            }
            catch (OperationCanceledException)
            {
                EndSession();
                throw;
            }
        }
        finally
        {
            _gate.Release();
        }
    }

    private void EndSession()
    {
        _session?.Dispose();
        _session = null;
    }

    public ValueTask DisposeAsync()
    {
        EndSession();
        _gate.Dispose();
        return ValueTask.CompletedTask;
    }

    /// <summary>One long-lived <c>exec</c> into the container, answering one command at a time.</summary>
    private sealed class Session : IDisposable
    {
        private readonly Process _process;
        private readonly StringBuilder _stderr = new();
        private readonly Task _stderrDrained;

        private Session(Process process)
        {
            _process = process;
            _stderrDrained = Task.Run(async () =>
            {
                var buffer = new char[4096];
                int read;
                while ((read = await process.StandardError.ReadAsync(buffer).ConfigureAwait(false)) > 0)
                {
                    lock (_stderr)
                    {
                        // Only the engine's complaint is wanted; commands' own stderr goes through the protocol.
                        if (_stderr.Length < 16_384)
                        {
                            _stderr.Append(buffer, 0, read);
                        }
                    }
                }
            });
        }

        public static Session Start(IReadOnlyList<string> launch, ContainerTransport owner, Command command)
        {
            var info = new ProcessStartInfo(launch[0])
            {
                RedirectStandardInput = true,
                RedirectStandardOutput = true,
                RedirectStandardError = true,
                UseShellExecute = false,
                StandardInputEncoding = new UTF8Encoding(false),
            };
            foreach (var arg in launch.Skip(1))
            {
                info.ArgumentList.Add(arg);
            }

            try
            {
                return new Session(Process.Start(info) ?? throw new InvalidOperationException($"{launch[0]} did not start"));
            }
            catch (System.ComponentModel.Win32Exception ex)
            {
                throw new TransportException(owner.Name, command, $"could not start '{launch[0]}' to enter container '{owner.Container}': {ex.Message} (is {owner.Engine} installed and on PATH?)", ex);
            }
        }

        public async Task<(int Exit, string Stdout, string Stderr)> RunAsync(string request, CancellationToken cancellationToken)
        {
            await using var registration = cancellationToken.Register(Dispose).ConfigureAwait(false);
            try
            {
                await _process.StandardInput.WriteAsync(request.AsMemory(), cancellationToken).ConfigureAwait(false);
                await _process.StandardInput.FlushAsync(cancellationToken).ConfigureAwait(false);
                var output = _process.StandardOutput.BaseStream;
                var header = Encoding.ASCII.GetString(await ReadLineAsync(output, cancellationToken).ConfigureAwait(false)).Split(' ', StringSplitOptions.RemoveEmptyEntries);
                if (header is not ["rb-exit", var code, var outBytes, var errBytes])
                {
                    throw new EndOfStreamException($"unexpected answer '{string.Join(' ', header)}'");
                }

                var stdout = await ReadExactlyAsync(output, int.Parse(outBytes, CultureInfo.InvariantCulture), cancellationToken).ConfigureAwait(false);
                var stderr = await ReadExactlyAsync(output, int.Parse(errBytes, CultureInfo.InvariantCulture), cancellationToken).ConfigureAwait(false);
                return (int.Parse(code, CultureInfo.InvariantCulture), Encoding.UTF8.GetString(stdout), Encoding.UTF8.GetString(stderr));
            }
            catch (Exception ex) when (ex is IOException or ObjectDisposedException or InvalidOperationException && !cancellationToken.IsCancellationRequested)
            {
                throw new EndOfStreamException(ex.Message, ex);
            }
            catch (Exception) when (cancellationToken.IsCancellationRequested)
            {
                throw new OperationCanceledException(cancellationToken);
            }
        }

        /// <summary>Why the session ended: the engine's first line of complaint (no such container, one that stopped).</summary>
        public async Task<string> EndedBecauseAsync()
        {
            // Its exit code too: stderr can reach its end a moment before the process is reaped.
            using (var wait = new CancellationTokenSource(TimeSpan.FromSeconds(5)))
            {
                try
                {
                    await _process.WaitForExitAsync(wait.Token).ConfigureAwait(false);
                }
                catch (OperationCanceledException)
                {
                }
            }

            await Task.WhenAny(_stderrDrained, Task.Delay(TimeSpan.FromSeconds(1))).ConfigureAwait(false);
            string text;
            lock (_stderr)
            {
                text = _stderr.ToString();
            }

            var line = text.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
                .FirstOrDefault(l => !l.StartsWith("failed to connect to syslog", StringComparison.Ordinal));
            var exit = _process.HasExited ? $" (exit {_process.ExitCode})" : "";
            return line is null ? $"the session ended without a word{exit}" : line + exit;
        }

        private static async Task<byte[]> ReadLineAsync(Stream stream, CancellationToken cancellationToken)
        {
            var line = new List<byte>();
            var one = new byte[1];
            while (true)
            {
                if (await stream.ReadAsync(one, cancellationToken).ConfigureAwait(false) == 0)
                {
                    throw new EndOfStreamException("the session closed");
                }

                if (one[0] == '\n')
                {
                    return [.. line];
                }

                line.Add(one[0]);
            }
        }

        private static async Task<byte[]> ReadExactlyAsync(Stream stream, int count, CancellationToken cancellationToken)
        {
            var buffer = new byte[count];
            await stream.ReadExactlyAsync(buffer, cancellationToken).ConfigureAwait(false);
            return buffer;
        }

        public void Dispose()
        {
            try
            {
                if (!_process.HasExited)
                {
                    _process.Kill(entireProcessTree: true);
                }
            }
            catch (InvalidOperationException)
            {
            }

            _process.Dispose();
        }
    }
}
