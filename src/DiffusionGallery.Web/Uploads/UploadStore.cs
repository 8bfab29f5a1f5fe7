using DiffusionGallery.Web.Options;
using Microsoft.Extensions.Options;

namespace DiffusionGallery.Web.Uploads;

/// <summary>Upload files on disk, named by id only (never by a client's file name), written atomically.</summary>
public sealed class UploadStore
{
    public UploadStore(IOptions<UploadOptions> options)
    {
        RootPath = AppPaths.Resolve(options.Value.Root);
        Directory.CreateDirectory(RootPath);
    }

    public string RootPath { get; }

    public string PathFor(Guid id) => Path.Combine(RootPath, $"{id:N}.png");

    public async Task SaveAsync(Guid id, byte[] png, CancellationToken cancellationToken)
    {
        var path = PathFor(id);
        var temp = $"{path}.{Guid.NewGuid():N}.tmp";
        try
        {
            await File.WriteAllBytesAsync(temp, png, cancellationToken);
            File.Move(temp, path, overwrite: true);
        }
        catch
        {
            File.Delete(temp);
            throw;
        }
    }

    public Task<byte[]> ReadAsync(Guid id, CancellationToken cancellationToken) => File.ReadAllBytesAsync(PathFor(id), cancellationToken);

    public void Delete(Guid id) => File.Delete(PathFor(id));

    /// <summary>Ids of the files present (for the orphan sweep).</summary>
    public IEnumerable<(Guid Id, DateTime LastWriteUtc)> List()
    {
        foreach (var file in Directory.EnumerateFiles(RootPath, "*.png"))
        {
            if (Guid.TryParseExact(Path.GetFileNameWithoutExtension(file), "N", out var id))
                yield return (id, File.GetLastWriteTimeUtc(file));
        }
    }
}
