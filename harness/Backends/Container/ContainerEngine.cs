using Runbooks.Commands;
using Runbooks.Engine;
using Runbooks.Transport;

namespace Runbooks.Harness.Backends.Container;

/// <summary>
/// podman, or docker where podman is not installed: one code path, the few flags that differ chosen here.
/// </summary>
internal sealed class ContainerEngine(string program, ITransport local)
{
    private static readonly TimeSpan Quick = TimeSpan.FromSeconds(60);

    /// <summary><c>podman</c> or <c>docker</c>.</summary>
    public string Program { get; } = program;

    public bool IsPodman => Program == "podman";

    /// <summary>The engine on this machine, or a clear error naming what to install.</summary>
    public static ContainerEngine Find(ITransport local)
    {
        var program = ContainerTransport.DefaultEngine();
        return ContainerTransport.OnPath(program)
            ? new ContainerEngine(program, local)
            : throw new RunbookException("containers backend: neither podman nor docker is installed; `apt-get install podman runc` (harness/prerequisites.sh does), or install Docker");
    }

    /// <summary>
    /// Flags every container of the harness gets. podman's default runtime, crun, cannot start containers on a
    /// cgroup-v1 host of this kind, and the engines' default open-files limit is above what such hosts allow; runc
    /// and fixed limits work on both. NET_ADMIN and NET_RAW: a host changes its own firewall, routes and pings.
    /// </summary>
    public IEnumerable<Arg> RunFlags()
    {
        if (IsPodman && ContainerTransport.OnPath("runc"))
        {
            yield return "--runtime";
            yield return "runc";
        }

        foreach (var flag in new Arg[] { "--ulimit", "nofile=1024:1024", "--ulimit", "nproc=1024:1024", "--init", "--cap-add", "NET_ADMIN", "--cap-add", "NET_RAW" })
        {
            yield return flag;
        }
    }

    /// <summary>Runs the engine; a non-zero exit throws with its stderr.</summary>
    public Task<CommandResult> RunAsync(IEnumerable<Arg> arguments, CancellationToken cancellationToken, TimeSpan? timeout = null) =>
        local.RunCheckedAsync(new Command(Program, arguments).WithTimeout(timeout ?? Quick), cancellationToken);

    /// <summary>Runs the engine and returns whatever it answered.</summary>
    public Task<CommandResult> TryAsync(IEnumerable<Arg> arguments, CancellationToken cancellationToken) =>
        local.RunAsync(new Command(Program, arguments).WithTimeout(Quick), cancellationToken);

    /// <summary>The engine's version line, for the report.</summary>
    public async Task<string> VersionAsync(CancellationToken cancellationToken) =>
        (await TryAsync(["--version"], cancellationToken).ConfigureAwait(false)).StandardOutput.Trim();
}
