namespace DiffusionGallery.Web.Sharing.Endpoints;

/// <summary>Maps <see cref="SharingException"/> to application/problem+json (400 with "errors" per field, 401, 403, 404).</summary>
internal sealed class SharingProblems : IEndpointFilter
{
    public async ValueTask<object?> InvokeAsync(EndpointFilterInvocationContext context, EndpointFilterDelegate next)
    {
        try
        {
            return await next(context);
        }
        catch (SharingException ex) when (ex.Field is not null && ex.Status == StatusCodes.Status400BadRequest)
        {
            return TypedResults.ValidationProblem(new Dictionary<string, string[]> { [ex.Field] = [ex.Message] }, detail: ex.Message, title: "Invalid request");
        }
        catch (SharingException ex)
        {
            return TypedResults.Problem(ex.Message, statusCode: ex.Status, title: ex.Status switch
            {
                StatusCodes.Status401Unauthorized => "Sign in required",
                StatusCodes.Status403Forbidden => "Not allowed",
                StatusCodes.Status404NotFound => "Not found",
                _ => "Invalid request",
            });
        }
    }
}
