using System.ComponentModel.DataAnnotations;

namespace DiffusionGallery.Web.A1111;

/// <summary>The A1111 keys of the <c>Api</c> section.</summary>
public sealed class A1111ApiOptions
{
    public const string SectionName = "Api";

    /// <summary>Serve AUTOMATIC1111's <c>/sdapi/v1/…</c> API (on by default).</summary>
    public bool A1111Compatible { get; set; } = true;

    /// <summary>How long a synchronous txt2img/img2img call waits for its jobs; after that it answers 504 and the job goes on into the gallery.</summary>
    [Range(1, 3600)] public int A1111WaitSeconds { get; set; } = 600;

    /// <summary>Largest request body (base64 init images included).</summary>
    [Range(1024, 256L * 1024 * 1024)] public long A1111MaxBodyBytes { get; set; } = 48L * 1024 * 1024;
}
