using System.Text;
using DiffusionGallery.Web.Data;
using Microsoft.EntityFrameworkCore;

namespace DiffusionGallery.Web.Admin;

public sealed record AuditQuery(string? Search = null, string? Action = null, DateTimeOffset? From = null, DateTimeOffset? To = null, int Page = 1, int PageSize = 50);

public sealed record AuditPage(IReadOnlyList<AuditEntry> Items, int Total)
{
    /// <summary>E-mail addresses of the accounts the page's entries target (<see cref="AuditLog.UserTarget"/>), by user id; a deleted account has none.</summary>
    public IReadOnlyDictionary<string, string> TargetEmails { get; init; } = new Dictionary<string, string>();

    /// <summary>What to show for an entry's target: the account's e-mail for a user, else the id.</summary>
    public string? TargetLabel(AuditEntry entry)
    {
        ArgumentNullException.ThrowIfNull(entry);
        return entry.TargetType == AuditLog.UserTarget && entry.TargetId is { } id && TargetEmails.TryGetValue(id, out var email) ? email : entry.TargetId;
    }
}

/// <summary>The append-only audit log of admin actions and security events.</summary>
public sealed class AuditLog(IDbContextFactory<ApplicationDbContext> dbFactory, TimeProvider time, ILogger<AuditLog> logger)
{
    public const int MaxPageSize = 200;

    /// <summary>The target type of entries about an account (the target id is the user id).</summary>
    public const string UserTarget = "user";

    public async Task RecordAsync(AuditActor actor, string action, string? targetType = null, string? targetId = null, string? details = null, CancellationToken cancellationToken = default)
    {
        var entry = new AuditEntry
        {
            At = time.GetUtcNow(),
            ActorId = actor.UserId,
            ActorEmail = Clean(actor.Email, 256),
            Action = Clean(action, 64)!,
            TargetType = Clean(targetType, 32),
            TargetId = Clean(targetId, 450),
            Details = Clean(details, 2000),
            IpAddress = Clean(actor.IpAddress, 64),
            UserAgent = Clean(actor.UserAgent, 256),
        };
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        db.Set<AuditEntry>().Add(entry);
        await db.SaveChangesAsync(CancellationToken.None); // once decided, the record is kept even if the caller goes away
        logger.LogInformation("Audit: {Action} by {ActorId} on {TargetType} {TargetId} from {Ip}", entry.Action, entry.ActorId, entry.TargetType, entry.TargetId, entry.IpAddress);
    }

    public async Task<AuditPage> QueryAsync(AuditQuery query, CancellationToken cancellationToken = default)
    {
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        var entries = Filter(db, query);
        var total = await entries.CountAsync(cancellationToken);
        var page = Math.Max(1, query.Page);
        var size = Math.Clamp(query.PageSize, 1, MaxPageSize);
        var items = await entries.OrderByDescending(a => a.At).ThenByDescending(a => a.Id)
            .Skip((page - 1) * size).Take(size).ToListAsync(cancellationToken);
        var userIds = items.Where(a => a.TargetType == UserTarget && a.TargetId != null).Select(a => a.TargetId!).Distinct().ToList();
        var emails = await db.Users.AsNoTracking().Where(u => userIds.Contains(u.Id) && u.Email != null)
            .ToDictionaryAsync(u => u.Id, u => u.Email!, cancellationToken);
        return new AuditPage(items, total) { TargetEmails = emails };
    }

    /// <summary>Every matching entry, oldest first, streamed (for the CSV export).</summary>
    public async IAsyncEnumerable<AuditEntry> StreamAsync(AuditQuery query, [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        await foreach (var entry in Filter(db, query).OrderBy(a => a.Id).AsAsyncEnumerable().WithCancellation(cancellationToken))
            yield return entry;
    }

    private static IQueryable<AuditEntry> Filter(ApplicationDbContext db, AuditQuery query)
    {
        var entries = db.Set<AuditEntry>().AsNoTracking();
        if (!string.IsNullOrWhiteSpace(query.Action)) entries = entries.Where(a => a.Action == query.Action);
        if (query.From is { } from) entries = entries.Where(a => a.At >= from);
        if (query.To is { } to) entries = entries.Where(a => a.At < to);
        if (!string.IsNullOrWhiteSpace(query.Search))
        {
            var term = query.Search.Trim();
            entries = entries.Where(a => (a.ActorEmail != null && a.ActorEmail.Contains(term)) || (a.TargetId != null && a.TargetId.Contains(term))
                || (a.TargetType == UserTarget && db.Users.Any(u => u.Id == a.TargetId && u.Email != null && u.Email.Contains(term)))
                || a.Action.Contains(term) || (a.Details != null && a.Details.Contains(term)) || (a.IpAddress != null && a.IpAddress.Contains(term)));
        }
        return entries;
    }

    /// <summary>No control characters (a CR/LF in a value cannot forge log lines), bounded length.</summary>
    internal static string? Clean(string? value, int maxLength)
    {
        if (value is null) return null;
        var builder = new StringBuilder(Math.Min(value.Length, maxLength));
        foreach (var c in value)
        {
            if (builder.Length == maxLength) break;
            builder.Append(char.IsControl(c) ? ' ' : c);
        }
        return builder.ToString();
    }
}
