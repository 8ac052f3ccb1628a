using Runbooks.Engine;
using Runbooks.Harness.Lifecycle;

namespace Runbooks.Tests.Support;

/// <summary>A harness backend whose one host, <c>local</c>, is this machine with a scratch directory as its state: the lifecycle's rules without a VM.</summary>
internal sealed class DirectoryBackend(string root) : IBackend
{
    public string Name => "directory";

    public Task<IHarnessEnvironment> CreateAsync(HarnessOptions options, CancellationToken cancellationToken) =>
        Task.FromResult<IHarnessEnvironment>(new DirectoryEnvironment(root));

    public Task<IHarnessEnvironment> AttachAsync(HarnessOptions options, CancellationToken cancellationToken) => CreateAsync(options, cancellationToken);

    private sealed class DirectoryEnvironment(string root) : IHarnessEnvironment
    {
        public Inventory Inventory { get; } = Inventory.Local();

        public string HowToReach => $"cd {root}/state";

        public IReadOnlyDictionary<string, string> Facts => new Dictionary<string, string> { ["kind"] = "a directory" };

        public Task<IReadOnlyList<string>> DestroyAsync(CancellationToken cancellationToken)
        {
            Directory.Delete(Path.Combine(root, "state"), recursive: true);
            return Task.FromResult<IReadOnlyList<string>>([]);
        }

        public ValueTask DisposeAsync() => Inventory.DisposeAsync();
    }
}
