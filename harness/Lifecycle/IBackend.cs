using Runbooks.Engine;

namespace Runbooks.Harness.Lifecycle;

/// <summary>Creates disposable hosts (a microVM, a set of network namespaces) and hands back transports.</summary>
public interface IBackend
{
    /// <summary>"microvm" or "netns".</summary>
    string Name { get; }

    /// <summary>Creates the hosts. Every wait inside has a timeout and fails with what to do next.</summary>
    Task<IHarnessEnvironment> CreateAsync(HarnessOptions options, CancellationToken cancellationToken);

    /// <summary>
    /// Re-attaches to hosts created by an earlier process (<c>harness up</c>, then <c>exec</c>/<c>down</c>),
    /// from the state the backend saved under <see cref="HarnessOptions.WorkDirectory"/>.
    /// </summary>
    Task<IHarnessEnvironment> AttachAsync(HarnessOptions options, CancellationToken cancellationToken);
}

/// <summary>Live disposable hosts. Destroying removes everything created and reports any leak.</summary>
public interface IHarnessEnvironment : IAsyncDisposable
{
    /// <summary>Host names (e.g. <c>local</c> for the VM, <c>server</c>/<c>client</c> for netns) mapped to transports.</summary>
    Inventory Inventory { get; }

    /// <summary>How a person reaches the hosts when the run is kept (<c>--keep</c>): ssh line, nsenter line.</summary>
    string HowToReach { get; }

    /// <summary>Facts worth a line in the report: accelerator (KVM/TCG), kernel, boot-to-SSH time.</summary>
    IReadOnlyDictionary<string, string> Facts { get; }

    /// <summary>Tears everything down; returns what leaked (namespaces, links, processes, loop devices), empty when clean.</summary>
    Task<IReadOnlyList<string>> DestroyAsync(CancellationToken cancellationToken);

    /// <summary>
    /// Where the machine running the harness reaches a TCP port of a host (a monitor polls it there), e.g.
    /// <c>http://127.0.0.1:41941/</c> for a microVM's forwarded port.
    /// </summary>
    Uri AddressOf(string host, int guestPort) =>
        throw new RunbookException($"monitoring host '{host}' port {guestPort} from the harness machine is not supported on this backend yet; watch the service with a Spec instead, or use MicroVm().ForwardPort({guestPort})");
}

/// <summary>What every backend does when its create fails part-way.</summary>
internal static class FailedCreate
{
    /// <summary>Tears down what a failed create made, so the failure leaves nothing behind; says what would not go.</summary>
    public static async Task TearDownAsync(IHarnessEnvironment environment, string backend)
    {
        var leaks = await environment.DestroyAsync(CancellationToken.None).ConfigureAwait(false);
        if (leaks.Count > 0)
        {
            Console.Error.WriteLine($"{backend} create failed and teardown left: {string.Join(", ", leaks)}");
        }
    }
}

/// <summary>Options every backend understands.</summary>
public sealed record HarnessOptions(string RunId, string WorkDirectory, double Scale = 0.1, bool Verbose = false);
