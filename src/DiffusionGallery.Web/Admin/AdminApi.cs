using System.Security.Claims;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;

namespace DiffusionGallery.Web.Admin;

/// <summary>/api/admin/…: Admin role only (401 signed out, 403 signed in without the role), every change audited.</summary>
public static class AdminApi
{
    public static IEndpointRouteBuilder MapAdminApi(this IEndpointRouteBuilder app)
    {
        var api = app.MapGroup("/api/admin").RequireAuthorization(AdminPolicy.Name).WithTags("Admin")
            .AddEndpointFilter(MapErrorsAsync).DisableAntiforgery();

        api.MapGet("/users", ListUsersAsync).WithSummary("Accounts with roles, status, usage today and effective quota; search and paging.");
        api.MapGet("/users/{id}", GetUserAsync).WithSummary("One account.");
        api.MapPut("/users/{id}/quota", SetQuotaAsync).WithSummary("Replace the account's quota override (null = the default, 0 = no limit; negative values are refused with 400 naming the field).");
        api.MapPost("/users/{id}/disable", (string id, ClaimsPrincipal user, HttpContext http, AdminUserService admin, CancellationToken ct) =>
            SetDisabledAsync(id, true, user, http, admin, ct)).WithSummary("Disable the account: no sign-in, no tokens, no generation.");
        api.MapPost("/users/{id}/enable", (string id, ClaimsPrincipal user, HttpContext http, AdminUserService admin, CancellationToken ct) =>
            SetDisabledAsync(id, false, user, http, admin, ct)).WithSummary("Enable a disabled account again.");
        api.MapPut("/users/{id}/roles", SetRolesAsync).WithSummary("Replace the account's roles (the last admin cannot be demoted).");
        api.MapDelete("/users/{id}/images", TakeDownContentAsync).WithSummary("Take down every image of the account.");
        api.MapDelete("/images/{id:guid}", TakeDownImageAsync).WithSummary("Take an image down everywhere (kept for the audit).");
        api.MapGet("/usage.csv", UsageCsvAsync).WithSummary("The usage ledger as CSV.");
        api.MapGet("/audit", AuditAsync).WithSummary("The audit log, newest first.");
        api.MapGet("/audit.csv", AuditCsvAsync).WithSummary("The audit log as CSV.");
        api.MapGet("/dashboard", DashboardAsync).WithSummary("Dashboard figures: usage per day, user and model; waits; outcomes; queue.");
        return app;
    }

    private static async Task<Ok<AdminUserPageDto>> ListUsersAsync(ClaimsPrincipal user, AdminUserService admin, CancellationToken cancellationToken,
        string? search = null, int page = 1, int pageSize = 25, AdminUserSort sort = AdminUserSort.Email, bool desc = false) =>
        TypedResults.Ok(await admin.ListAsync(user, new AdminUserQuery(search, page, pageSize, sort, desc), cancellationToken));

    private static async Task<Ok<AdminUserDto>> GetUserAsync(string id, ClaimsPrincipal user, AdminUserService admin, CancellationToken cancellationToken) =>
        TypedResults.Ok(await admin.GetAsync(user, id, cancellationToken));

    private static async Task<Ok<AdminUserDto>> SetQuotaAsync(string id, ClaimsPrincipal user, HttpContext http, AdminUserService admin, CancellationToken cancellationToken)
    {
        await admin.RequireAdminAsync(user, cancellationToken);
        var body = await ReadBodyAsync<QuotaDto>(http.Request, cancellationToken);
        return TypedResults.Ok(await admin.SetQuotaAsync(user, AuditActor.From(user, http), id, body, cancellationToken));
    }

    private static async Task<IResult> SetDisabledAsync(string id, bool disabled, ClaimsPrincipal user, HttpContext http, AdminUserService admin, CancellationToken cancellationToken) =>
        TypedResults.Ok(await admin.SetDisabledAsync(user, AuditActor.From(user, http), id, disabled, cancellationToken));

    private static async Task<Ok<AdminUserDto>> SetRolesAsync(string id, ClaimsPrincipal user, HttpContext http, AdminUserService admin, CancellationToken cancellationToken)
    {
        await admin.RequireAdminAsync(user, cancellationToken);
        var body = await ReadBodyAsync<RolesDto>(http.Request, cancellationToken);
        return TypedResults.Ok(await admin.SetRolesAsync(user, AuditActor.From(user, http), id, body.Roles, cancellationToken));
    }

    /// <summary>Reads a JSON body; malformed JSON or a wrong type becomes a 400 problem naming the field, not a bare 400.</summary>
    private static async Task<T> ReadBodyAsync<T>(HttpRequest request, CancellationToken cancellationToken) where T : class
    {
        if (!request.HasJsonContentType())
            throw AdminRequestException.Invalid("Send a JSON body (Content-Type: application/json).", new Dictionary<string, string[]> { ["body"] = ["Expected application/json."] });
        try
        {
            return await request.ReadFromJsonAsync<T>(cancellationToken)
                ?? throw AdminRequestException.Invalid("The body is empty.", new Dictionary<string, string[]> { ["body"] = ["The body is empty."] });
        }
        catch (System.Text.Json.JsonException ex)
        {
            var field = ex.Path is { Length: > 2 } path ? path.TrimStart('$', '.') : "body";
            throw AdminRequestException.Invalid("The body is not valid JSON for this request.", new Dictionary<string, string[]> { [field] = [$"Not a valid value for {field}."] });
        }
    }

    private static async Task<Ok<TakeDownResult>> TakeDownContentAsync(string id, ClaimsPrincipal user, HttpContext http, AdminUserService admin, CancellationToken cancellationToken) =>
        TypedResults.Ok(new TakeDownResult(await admin.TakeDownContentAsync(user, AuditActor.From(user, http), id, cancellationToken)));

    private static async Task<NoContent> TakeDownImageAsync(Guid id, ClaimsPrincipal user, HttpContext http, AdminUserService admin, CancellationToken cancellationToken)
    {
        await admin.TakeDownImageAsync(user, AuditActor.From(user, http), id, cancellationToken);
        return TypedResults.NoContent();
    }

    private static async Task UsageCsvAsync(HttpContext http, ClaimsPrincipal user, AdminUserService admin, UsageExport export, CancellationToken cancellationToken,
        DateTimeOffset? from = null, DateTimeOffset? to = null)
    {
        await admin.RequireAdminAsync(user, cancellationToken);
        http.Response.ContentType = "text/csv; charset=utf-8";
        http.Response.Headers.ContentDisposition = "attachment; filename=\"usage.csv\"";
        await export.WriteLedgerAsync(http.Response.Body, from, to, cancellationToken);
    }

    private static async Task<Ok<AuditPageDto>> AuditAsync(ClaimsPrincipal user, AdminUserService admin, AuditLog audit, CancellationToken cancellationToken,
        string? search = null, string? action = null, DateTimeOffset? from = null, DateTimeOffset? to = null, int page = 1, int pageSize = 50)
    {
        await admin.RequireAdminAsync(user, cancellationToken);
        var result = await audit.QueryAsync(new AuditQuery(search, action, from, to, page, pageSize), cancellationToken);
        return TypedResults.Ok(new AuditPageDto(result.Items.Select(e => AuditEntryDto.From(e, result)).ToList(), result.Total));
    }

    private static async Task AuditCsvAsync(HttpContext http, ClaimsPrincipal user, AdminUserService admin, UsageExport export, CancellationToken cancellationToken,
        string? search = null, string? action = null, DateTimeOffset? from = null, DateTimeOffset? to = null)
    {
        await admin.RequireAdminAsync(user, cancellationToken);
        http.Response.ContentType = "text/csv; charset=utf-8";
        http.Response.Headers.ContentDisposition = "attachment; filename=\"audit.csv\"";
        await export.WriteAuditAsync(http.Response.Body, new AuditQuery(search, action, from, to), cancellationToken);
    }

    private static async Task<Ok<DashboardData>> DashboardAsync(ClaimsPrincipal user, AdminUserService admin, UsageDashboard dashboard, CancellationToken cancellationToken, int days = 14)
    {
        await admin.RequireAdminAsync(user, cancellationToken);
        return TypedResults.Ok(await dashboard.LoadAsync(days, cancellationToken));
    }

    /// <summary>Admin errors → application/problem+json (400 with "errors", 403, 404, 409).</summary>
    private static async ValueTask<object?> MapErrorsAsync(EndpointFilterInvocationContext context, EndpointFilterDelegate next)
    {
        try
        {
            return await next(context);
        }
        catch (AdminRequestException ex)
        {
            if (ex.StatusCode == StatusCodes.Status400BadRequest)
                return TypedResults.ValidationProblem(ex.FieldErrors.ToDictionary(), ex.Message, title: "Invalid request");
            return TypedResults.Problem(new ProblemDetails { Status = ex.StatusCode, Title = ex.StatusCode switch { 403 => "Forbidden", 404 => "Not found", _ => "Conflict" }, Detail = ex.Message });
        }
    }
}

public sealed record TakeDownResult(int TakenDown);
