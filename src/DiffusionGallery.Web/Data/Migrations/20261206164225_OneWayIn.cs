using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace DiffusionGallery.Web.Data.Migrations
{
    /// <inheritdoc />
    public partial class OneWayIn : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.AddColumn<string>(
                name: "Kind",
                table: "UsageEntries",
                type: "TEXT",
                maxLength: 16,
                nullable: false,
                defaultValue: "Charge");

            migrationBuilder.AddColumn<int>(
                name: "Attempts",
                table: "GenerationJobs",
                type: "INTEGER",
                nullable: false,
                defaultValue: 0);

            migrationBuilder.AddColumn<string>(
                name: "Client",
                table: "GenerationJobs",
                type: "TEXT",
                maxLength: 200,
                nullable: true);

            migrationBuilder.AddColumn<string>(
                name: "Origin",
                table: "GenerationJobs",
                type: "TEXT",
                maxLength: 32,
                nullable: false,
                defaultValue: "web");

            migrationBuilder.CreateIndex(
                name: "IX_UsageEntries_JobId_Kind",
                table: "UsageEntries",
                columns: new[] { "JobId", "Kind" });

            // The ledger before this migration held one row per finished job (now Kind = Charge). Quotas count
            // reservations, so give each of those jobs, and each job still waiting or running, its reservation.
            migrationBuilder.Sql("""
                INSERT INTO UsageEntries (UserId, JobId, Kind, Images, GpuSeconds, ExecutionProvider, CreatedAt)
                SELECT UserId, JobId, 'Reservation', Images, 0, '', CreatedAt FROM UsageEntries WHERE Kind = 'Charge';
                INSERT INTO UsageEntries (UserId, JobId, Kind, Images, GpuSeconds, ExecutionProvider, CreatedAt)
                SELECT OwnerId, Id, 'Reservation', BatchCount, 0, '', CreatedAt FROM GenerationJobs WHERE State IN ('Queued', 'Running');
                """);
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.Sql("DELETE FROM UsageEntries WHERE Kind <> 'Charge';");

            migrationBuilder.DropIndex(
                name: "IX_UsageEntries_JobId_Kind",
                table: "UsageEntries");

            migrationBuilder.DropColumn(
                name: "Kind",
                table: "UsageEntries");

            migrationBuilder.DropColumn(
                name: "Attempts",
                table: "GenerationJobs");

            migrationBuilder.DropColumn(
                name: "Client",
                table: "GenerationJobs");

            migrationBuilder.DropColumn(
                name: "Origin",
                table: "GenerationJobs");
        }
    }
}
