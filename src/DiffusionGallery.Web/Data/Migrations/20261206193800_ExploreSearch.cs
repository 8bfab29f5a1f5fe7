using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace DiffusionGallery.Web.Data.Migrations
{
    /// <summary>
    /// Explore's prompt search as an SQLite FTS5 index (see Sharing/ExploreSearch). Only searchable images are in it —
    /// Public, not taken down, prompt not hidden — and triggers on GeneratedImages keep it so on every insert, delete
    /// (cascades included) and change of prompt, visibility, hide-prompt or takedown, whichever code path writes.
    /// ExploreSearchDocuments gives each indexed image a stable integer key (GeneratedImages has a GUID key, and its
    /// implicit rowid may change on VACUUM); ExploreSearch is an external-content FTS5 table over it.
    /// </summary>
    public partial class ExploreSearch : Migration
    {
        private const string Searchable = "{0}.Visibility = 'Public' AND {0}.TakenDownAt IS NULL AND {0}.HidePrompt = 0";

        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.Sql("""
                CREATE TABLE ExploreSearchDocuments (
                    DocumentId INTEGER PRIMARY KEY,
                    ImageId TEXT NOT NULL UNIQUE,
                    Prompt TEXT NOT NULL
                );
                """);
            migrationBuilder.Sql("""
                CREATE VIRTUAL TABLE ExploreSearch USING fts5(
                    Prompt, content = 'ExploreSearchDocuments', content_rowid = 'DocumentId',
                    tokenize = 'unicode61 remove_diacritics 2', prefix = '2 3'
                );
                """);
            migrationBuilder.Sql("""
                CREATE TRIGGER ExploreSearchDocuments_Inserted AFTER INSERT ON ExploreSearchDocuments BEGIN
                    INSERT INTO ExploreSearch (rowid, Prompt) VALUES (new.DocumentId, new.Prompt);
                END;
                """);
            migrationBuilder.Sql("""
                CREATE TRIGGER ExploreSearchDocuments_Deleted AFTER DELETE ON ExploreSearchDocuments BEGIN
                    INSERT INTO ExploreSearch (ExploreSearch, rowid, Prompt) VALUES ('delete', old.DocumentId, old.Prompt);
                END;
                """);
            migrationBuilder.Sql($"""
                CREATE TRIGGER GeneratedImages_ExploreSearch_Inserted AFTER INSERT ON GeneratedImages
                WHEN {string.Format(Searchable, "new")} BEGIN
                    INSERT INTO ExploreSearchDocuments (ImageId, Prompt) VALUES (new.Id, new.Prompt);
                END;
                """);
            migrationBuilder.Sql("""
                CREATE TRIGGER GeneratedImages_ExploreSearch_Deleted AFTER DELETE ON GeneratedImages BEGIN
                    DELETE FROM ExploreSearchDocuments WHERE ImageId = old.Id;
                END;
                """);
            migrationBuilder.Sql($"""
                CREATE TRIGGER GeneratedImages_ExploreSearch_Updated AFTER UPDATE OF Id, Prompt, Visibility, TakenDownAt, HidePrompt ON GeneratedImages BEGIN
                    DELETE FROM ExploreSearchDocuments WHERE ImageId = old.Id;
                    INSERT INTO ExploreSearchDocuments (ImageId, Prompt) SELECT new.Id, new.Prompt WHERE {string.Format(Searchable, "new")};
                END;
                """);
            migrationBuilder.Sql($"""
                INSERT INTO ExploreSearchDocuments (ImageId, Prompt)
                SELECT i.Id, i.Prompt FROM GeneratedImages AS i WHERE {string.Format(Searchable, "i")};
                """);
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.Sql("DROP TRIGGER IF EXISTS GeneratedImages_ExploreSearch_Updated;");
            migrationBuilder.Sql("DROP TRIGGER IF EXISTS GeneratedImages_ExploreSearch_Deleted;");
            migrationBuilder.Sql("DROP TRIGGER IF EXISTS GeneratedImages_ExploreSearch_Inserted;");
            migrationBuilder.Sql("DROP TABLE IF EXISTS ExploreSearch;");
            migrationBuilder.Sql("DROP TABLE IF EXISTS ExploreSearchDocuments;");
        }
    }
}
