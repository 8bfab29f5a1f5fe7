using System.Collections.Concurrent;
using System.Text.Json.Serialization;
using DiffusionGallery.Inference.Models;
using DiffusionGallery.Inference.Pipeline;
using DiffusionGallery.Web.Options;
using Microsoft.Extensions.Options;

namespace DiffusionGallery.Web.A1111;

/// <summary><c>GET /sdapi/v1/sd-models</c> item.</summary>
public sealed record A1111ModelItem(
    [property: JsonPropertyName("title")] string Title,
    [property: JsonPropertyName("model_name")] string ModelName,
    [property: JsonPropertyName("hash")] string Hash,
    [property: JsonPropertyName("sha256")] string Sha256,
    [property: JsonPropertyName("filename")] string Filename,
    [property: JsonPropertyName("config")] string? Config);

/// <summary>
/// Our model folders as A1111 checkpoints: title "name [short hash]", the short hash being the first 10 hex digits
/// of the folder's SHA-256 (the same hash the engine writes as "Model hash"). Hashes are computed once per folder.
/// The file name is the folder name only: server paths are not shown.
/// </summary>
public sealed class A1111ModelCatalog(DiffusionImageGenerator generator, IOptions<InferenceOptions> inference)
{
    private readonly ConcurrentDictionary<string, Lazy<Task<string>>> _hashes = new(StringComparer.Ordinal);

    public async Task<IReadOnlyList<A1111ModelItem>> ListAsync(CancellationToken cancellationToken = default)
    {
        var items = new List<A1111ModelItem>();
        foreach (var info in generator.ModelInfos) items.Add(await ItemAsync(info, cancellationToken));
        return items;
    }

    public string DefaultModelName =>
        generator.ModelInfos.FirstOrDefault(m => m.Name == inference.Value.DefaultModel)?.Name ?? generator.ModelInfos.FirstOrDefault()?.Name ?? "";

    /// <summary>Finds a model by title ("name [hash]"), name (with or without a checkpoint extension) or hash; null when none matches.</summary>
    public async Task<A1111ModelItem?> FindAsync(string? checkpoint, CancellationToken cancellationToken = default)
    {
        if (string.IsNullOrWhiteSpace(checkpoint)) return null;
        var wanted = checkpoint.Trim();
        var bracket = wanted.LastIndexOf(" [", StringComparison.Ordinal);
        var bare = bracket > 0 && wanted.EndsWith(']') ? wanted[..bracket] : wanted;
        foreach (var ext in new[] { ".safetensors", ".ckpt", ".onnx" })
        {
            if (bare.EndsWith(ext, StringComparison.OrdinalIgnoreCase)) bare = bare[..^ext.Length];
        }
        foreach (var item in await ListAsync(cancellationToken))
        {
            if (item.Title == wanted || item.ModelName == bare || item.Hash == wanted || item.Sha256 == wanted) return item;
        }
        return null;
    }

    public async Task<A1111ModelItem?> ForNameAsync(string name, CancellationToken cancellationToken = default) =>
        generator.ModelInfos.FirstOrDefault(m => m.Name == name) is { } info ? await ItemAsync(info, cancellationToken) : null;

    private async Task<A1111ModelItem> ItemAsync(ModelInfo info, CancellationToken cancellationToken)
    {
        var lazy = _hashes.GetOrAdd(info.Folder, folder => new Lazy<Task<string>>(() => Task.Run(() => LoadedModel.HashFolder(folder, CancellationToken.None))));
        string sha;
        try
        {
            sha = await lazy.Value.WaitAsync(cancellationToken);
        }
        catch (IOException)
        {
            _hashes.TryRemove(new KeyValuePair<string, Lazy<Task<string>>>(info.Folder, lazy)); // try again next time
            throw;
        }
        var shortHash = sha[..10];
        return new A1111ModelItem($"{info.Name} [{shortHash}]", info.Name, shortHash, sha, info.Name, null);
    }
}
