namespace DiffusionGallery.Web.Generation;

/// <summary>The user asked for more than their quota or the queue allows.</summary>
public sealed class QuotaExceededException(string message) : InvalidOperationException(message);
