using DiffusionGallery.Web.Data;
using Microsoft.EntityFrameworkCore;

namespace DiffusionGallery.Web.Admin;

/// <summary>The usage ledger (and the audit log) as CSV, streamed row by row.</summary>
public sealed class UsageExport(IDbContextFactory<ApplicationDbContext> dbFactory, AuditLog audit)
{
    public async Task WriteLedgerAsync(Stream output, DateTimeOffset? since, DateTimeOffset? until, CancellationToken cancellationToken)
    {
        await using var writer = new StreamWriter(output, new System.Text.UTF8Encoding(false), leaveOpen: true);
        var csv = new CsvWriter(writer);
        await csv.WriteRowAsync("id", "createdAt", "kind", "userId", "email", "jobId", "model", "images", "gpuSeconds", "executionProvider");
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        var rows = from u in db.UsageEntries.AsNoTracking()
                   join user in db.Users on u.UserId equals user.Id into users
                   from user in users.DefaultIfEmpty()
                   join job in db.GenerationJobs on u.JobId equals job.Id into jobs
                   from job in jobs.DefaultIfEmpty()
                   where (since == null || u.CreatedAt >= since) && (until == null || u.CreatedAt < until)
                   orderby u.Id
                   select new { u.Id, u.CreatedAt, u.Kind, u.UserId, Email = user == null ? null : user.Email, u.JobId, Model = job == null ? null : job.Settings.Model, u.Images, u.GpuSeconds, u.ExecutionProvider };
        await foreach (var row in rows.AsAsyncEnumerable().WithCancellation(cancellationToken))
            await csv.WriteRowAsync(row.Id, row.CreatedAt, row.Kind.ToString(), row.UserId, row.Email, row.JobId, row.Model, row.Images, row.GpuSeconds, row.ExecutionProvider);
        await writer.FlushAsync(cancellationToken);
    }

    public async Task WriteAuditAsync(Stream output, AuditQuery query, CancellationToken cancellationToken)
    {
        await using var writer = new StreamWriter(output, new System.Text.UTF8Encoding(false), leaveOpen: true);
        var csv = new CsvWriter(writer);
        await csv.WriteRowAsync("id", "at", "actorId", "actorEmail", "action", "targetType", "targetId", "details", "ipAddress", "userAgent");
        await foreach (var e in audit.StreamAsync(query, cancellationToken))
            await csv.WriteRowAsync(e.Id, e.At, e.ActorId, e.ActorEmail, e.Action, e.TargetType, e.TargetId, e.Details, e.IpAddress, e.UserAgent);
        await writer.FlushAsync(cancellationToken);
    }
}
