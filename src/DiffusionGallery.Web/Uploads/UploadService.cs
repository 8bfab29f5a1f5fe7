using System.Diagnostics;
using System.Security.Cryptography;
using DiffusionGallery.Inference.Imaging;
using DiffusionGallery.Web.Data;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.Formats.Png;

namespace DiffusionGallery.Web.Uploads;

/// <summary>
/// Accepts, stores, reads and deletes a user's reference images. An upload is checked in this order, cheapest first:
/// size (before reading it all), kind by content, header (width, height, pixel count) without decoding pixels, then a
/// decode through the engine's restricted ImageSharp configuration and a re-encode to PNG that drops every piece of
/// metadata (EXIF, GPS, ICC, XMP, text). Every method takes the owner id and never touches another user's rows.
/// </summary>
public sealed class UploadService(
    IDbContextFactory<ApplicationDbContext> dbFactory,
    UploadStore store,
    IOptions<UploadOptions> options,
    TimeProvider time,
    ILogger<UploadService> logger)
{
    private static readonly PngEncoder Encoder = new() { ColorType = PngColorType.Rgb, BitDepth = PngBitDepth.Bit8, CompressionLevel = PngCompressionLevel.DefaultCompression };

    private readonly SafeImageDecoder _decoder = new(new ImageDecodeLimits
    {
        MaxEncodedBytes = options.Value.MaxBytes,
        MaxDimension = options.Value.MaxDimension,
        MaxPixels = (long)options.Value.MaxDimension * options.Value.MaxDimension,
        AllocationLimitMegabytes = 256,
    });

    public UploadOptions Options => options.Value;

    /// <summary>Checks, re-encodes and stores an upload.</summary>
    /// <param name="declaredLength">The length the client announced, if any (refused at once when over the limit).</param>
    /// <exception cref="UploadRejectedException">400, 413 or 415 with a message that says why.</exception>
    public async Task<UploadedImage> CreateAsync(string ownerId, Stream content, long? declaredLength, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(ownerId);
        var started = Stopwatch.GetTimestamp();
        var max = options.Value.MaxBytes;
        if (declaredLength > max) throw Refused(ownerId, UploadRejectedException.TooLarge(max), started);

        byte[] bytes;
        try
        {
            bytes = await ReadBoundedAsync(content, max, cancellationToken);
            var (format, png, width, height) = Inspect(bytes);
            var upload = new UploadedImage
            {
                Id = Guid.CreateVersion7(),
                OwnerId = ownerId,
                Width = width,
                Height = height,
                SourceFormat = format.ToString().ToLowerInvariant(),
                FileSize = png.LongLength,
                FileHash = Convert.ToHexStringLower(SHA256.HashData(png)),
                CreatedAt = time.GetUtcNow(),
            };
            await store.SaveAsync(upload.Id, png, cancellationToken);
            try
            {
                await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
                db.Set<UploadedImage>().Add(upload);
                await db.SaveChangesAsync(cancellationToken);
            }
            catch
            {
                store.Delete(upload.Id);
                throw;
            }
            logger.LogInformation("Upload {UploadId} stored for {UserId}: {Format} {Width}x{Height}, {Bytes} bytes in",
                upload.Id, ownerId, upload.SourceFormat, width, height, bytes.Length);
            return upload;
        }
        catch (UploadRejectedException ex)
        {
            throw Refused(ownerId, ex, started);
        }
    }

    /// <summary>Kind by content, header limits, restricted decode, metadata-free PNG. Pure; no I/O.</summary>
    internal (UploadFormat Format, byte[] Png, int Width, int Height) Inspect(byte[] bytes)
    {
        var format = UploadFormatSniffer.Detect(bytes);
        try
        {
            _decoder.Identify(bytes); // header only: refuses pixel bombs before any pixel buffer exists
            using var image = _decoder.Decode(bytes);
            image.Metadata.ExifProfile = null;
            image.Metadata.IccProfile = null;
            image.Metadata.IptcProfile = null;
            image.Metadata.XmpProfile = null;
            image.Metadata.GetPngMetadata().TextData.Clear();
            using var output = new MemoryStream();
            image.SaveAsPng(output, Encoder);
            return (format, output.ToArray(), image.Width, image.Height);
        }
        catch (InvalidImageException ex)
        {
            throw UploadRejectedException.Invalid(ex.Message);
        }
    }

    public async Task<IReadOnlyList<UploadedImage>> ListAsync(string ownerId, int take = 24, CancellationToken cancellationToken = default)
    {
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        return await db.Set<UploadedImage>().AsNoTracking().Where(u => u.OwnerId == ownerId)
            .OrderByDescending(u => u.CreatedAt).ThenByDescending(u => u.Id).Take(Math.Clamp(take, 1, 100)).ToListAsync(cancellationToken);
    }

    /// <summary>The upload if it belongs to <paramref name="ownerId"/>; null otherwise (the caller answers 404).</summary>
    public async Task<UploadedImage?> GetAsync(string ownerId, Guid id, CancellationToken cancellationToken = default)
    {
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        return await db.Set<UploadedImage>().AsNoTracking().SingleOrDefaultAsync(u => u.Id == id && u.OwnerId == ownerId, cancellationToken);
    }

    /// <summary>The stored PNG of one of the owner's uploads; null when it is not theirs or gone.</summary>
    public async Task<byte[]?> ReadPngAsync(string ownerId, Guid id, CancellationToken cancellationToken = default)
    {
        if (await GetAsync(ownerId, id, cancellationToken) is null) return null;
        try
        {
            return await store.ReadAsync(id, cancellationToken);
        }
        catch (FileNotFoundException)
        {
            return null;
        }
    }

    /// <summary>Marks an upload as used as a reference, so the retention sweep keeps it.</summary>
    public async Task MarkUsedAsync(string ownerId, Guid id, CancellationToken cancellationToken = default)
    {
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        var now = time.GetUtcNow();
        await db.Set<UploadedImage>().Where(u => u.Id == id && u.OwnerId == ownerId && u.UsedAt == null)
            .ExecuteUpdateAsync(s => s.SetProperty(u => u.UsedAt, now), cancellationToken);
    }

    public async Task<bool> DeleteAsync(string ownerId, Guid id, CancellationToken cancellationToken = default)
    {
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        var deleted = await db.Set<UploadedImage>().Where(u => u.Id == id && u.OwnerId == ownerId).ExecuteDeleteAsync(cancellationToken);
        if (deleted == 0)
        {
            logger.LogWarning("Upload {UploadId} delete refused to {UserId}: not found or not theirs", id, ownerId);
            return false;
        }
        store.Delete(id);
        return true;
    }

    /// <summary>
    /// Deletes uploads never used as a reference that are older than the retention period, and files without a row
    /// (left by a deleted account). Returns how many uploads were removed.
    /// </summary>
    public async Task<int> SweepAsync(CancellationToken cancellationToken = default)
    {
        var cutoff = time.GetUtcNow() - options.Value.Retention;
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        var expired = await db.Set<UploadedImage>().Where(u => u.UsedAt == null && u.CreatedAt < cutoff).Select(u => u.Id).ToListAsync(cancellationToken);
        if (expired.Count > 0)
            await db.Set<UploadedImage>().Where(u => expired.Contains(u.Id)).ExecuteDeleteAsync(cancellationToken);
        foreach (var id in expired) store.Delete(id);

        var known = (await db.Set<UploadedImage>().Select(u => u.Id).ToListAsync(cancellationToken)).ToHashSet();
        var orphans = store.List().Where(f => !known.Contains(f.Id) && f.LastWriteUtc < cutoff.UtcDateTime).Select(f => f.Id).ToList();
        foreach (var id in orphans) store.Delete(id);
        if (expired.Count + orphans.Count > 0)
            logger.LogInformation("Upload retention sweep removed {Expired} unused uploads and {Orphans} orphaned files", expired.Count, orphans.Count);
        return expired.Count + orphans.Count;
    }

    private UploadRejectedException Refused(string ownerId, UploadRejectedException ex, long started)
    {
        logger.LogInformation("Upload refused for {UserId} ({Status}) after {Ms:F1} ms: {Reason}",
            ownerId, ex.StatusCode, Stopwatch.GetElapsedTime(started).TotalMilliseconds, ex.Message);
        return ex;
    }

    /// <summary>Reads at most <paramref name="max"/> bytes; one more byte means the upload is too large.</summary>
    private static async Task<byte[]> ReadBoundedAsync(Stream content, long max, CancellationToken cancellationToken)
    {
        using var buffer = new MemoryStream();
        var chunk = new byte[81920];
        int read;
        while ((read = await content.ReadAsync(chunk, cancellationToken)) > 0)
        {
            if (buffer.Length + read > max) throw UploadRejectedException.TooLarge(max);
            buffer.Write(chunk, 0, read);
        }
        if (buffer.Length == 0) throw UploadRejectedException.Invalid("The file is empty.");
        return buffer.ToArray();
    }
}
