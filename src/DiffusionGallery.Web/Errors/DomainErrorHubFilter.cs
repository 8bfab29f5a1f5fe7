using Microsoft.AspNetCore.SignalR;

namespace DiffusionGallery.Web.Errors;

/// <summary>
/// Hub filter: a <see cref="DomainException"/> reaches the client as a <see cref="HubException"/> with the user message.
/// Registered for the generation hub only (a global hub filter would also run on Blazor's circuit hub).
/// </summary>
public sealed class DomainErrorHubFilter(ILogger<DomainErrorHubFilter> logger) : IHubFilter
{
    public async ValueTask<object?> InvokeMethodAsync(HubInvocationContext invocationContext, Func<HubInvocationContext, ValueTask<object?>> next)
    {
        try
        {
            return await next(invocationContext);
        }
        catch (DomainException ex)
        {
            logger.LogInformation("Hub {Method} refused: {Error}", invocationContext.HubMethodName, ex.Message);
            throw new HubException(DomainErrorMapping.ToUserMessage(ex));
        }
    }
}
