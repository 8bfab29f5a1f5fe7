namespace DiffusionGallery.Web.Errors;

/// <summary>Endpoint filter for the REST API: a <see cref="DomainException"/> becomes <c>application/problem+json</c>.</summary>
public sealed class DomainErrorEndpointFilter(TimeProvider time, ILogger<DomainErrorEndpointFilter> logger) : IEndpointFilter
{
    public async ValueTask<object?> InvokeAsync(EndpointFilterInvocationContext context, EndpointFilterDelegate next)
    {
        try
        {
            return await next(context);
        }
        catch (DomainException ex)
        {
            logger.LogInformation("{Method} {Path} refused: {Error}", context.HttpContext.Request.Method, context.HttpContext.Request.Path, ex.Message);
            return DomainErrorMapping.ToProblem(ex, time);
        }
    }
}
