using System.Globalization;
using System.Text;

namespace DiffusionGallery.Web.Admin;

/// <summary>RFC 4180 CSV with formula-injection protection (a cell starting with = + - @ is prefixed with ').</summary>
public sealed class CsvWriter(TextWriter writer)
{
    public Task WriteRowAsync(params object?[] cells)
    {
        var line = new StringBuilder();
        for (var i = 0; i < cells.Length; i++)
        {
            if (i > 0) line.Append(',');
            line.Append(Escape(cells[i]));
        }
        line.Append("\r\n");
        return writer.WriteAsync(line.ToString());
    }

    internal static string Escape(object? cell)
    {
        var text = cell switch
        {
            null => "",
            DateTimeOffset d => d.ToUniversalTime().ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", CultureInfo.InvariantCulture),
            double d => d.ToString("0.###", CultureInfo.InvariantCulture),
            IFormattable f => f.ToString(null, CultureInfo.InvariantCulture),
            _ => cell.ToString() ?? "",
        };
        if (cell is string && text.Length > 0 && text[0] is '=' or '+' or '-' or '@' or '\t' or '\r') text = "'" + text;
        return text.IndexOfAny([',', '"', '\r', '\n']) >= 0 ? "\"" + text.Replace("\"", "\"\"") + "\"" : text;
    }
}
