using DiffusionGallery.Inference.Abstractions;
using DiffusionGallery.Inference.Models;
using DiffusionGallery.Inference.Onnx;

namespace DiffusionGallery.Cli.Commands;

/// <summary>Turns the engine's expected failures into one-line messages and exit codes instead of stack traces.</summary>
internal static class CommandErrors
{
    public const int InvalidInput = 2;
    public const int ModelError = 3;
    public const int ProviderError = 4;
    public const int Cancelled = 130;

    public static async Task<int> RunAsync(Func<Task<int>> action)
    {
        try
        {
            return await action();
        }
        catch (InvalidGenerationRequestException ex)
        {
            Console.Error.WriteLine($"error: {ex.Message}");
            return InvalidInput;
        }
        catch (ModelLoadException ex)
        {
            Console.Error.WriteLine($"error: {ex.Message}");
            return ModelError;
        }
        catch (ExecutionProviderUnavailableException ex)
        {
            Console.Error.WriteLine($"error: {ex.Message}");
            return ProviderError;
        }
        catch (OperationCanceledException)
        {
            Console.Error.WriteLine("cancelled");
            return Cancelled;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or InvalidDataException or ArgumentException)
        {
            Console.Error.WriteLine($"error: {ex.Message}");
            return InvalidInput;
        }
    }
}
