namespace DiffusionGallery.Web.Quotas;

/// <summary>Quota days run from midnight UTC to midnight UTC, so "when it resets" is one clear instant for everyone.</summary>
public sealed class QuotaClock(TimeProvider time)
{
    public DateTimeOffset Now => time.GetUtcNow();

    public DateTimeOffset DayStart => StartOfDay(time.GetUtcNow());

    public DateTimeOffset NextReset => DayStart.AddDays(1);

    public DateTimeOffset MonthStart
    {
        get
        {
            var now = time.GetUtcNow();
            return new DateTimeOffset(now.Year, now.Month, 1, 0, 0, 0, TimeSpan.Zero);
        }
    }

    public static DateTimeOffset StartOfDay(DateTimeOffset instant)
    {
        var utc = instant.ToUniversalTime();
        return new DateTimeOffset(utc.Year, utc.Month, utc.Day, 0, 0, 0, TimeSpan.Zero);
    }
}
