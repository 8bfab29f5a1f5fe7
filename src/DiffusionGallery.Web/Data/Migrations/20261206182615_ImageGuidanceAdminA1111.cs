using System;
using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace DiffusionGallery.Web.Data.Migrations
{
    /// <inheritdoc />
    public partial class ImageGuidanceAdminA1111 : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.AlterColumn<double>(
                name: "Weight",
                table: "QuotaPolicies",
                type: "REAL",
                nullable: true,
                oldClrType: typeof(double),
                oldType: "REAL");

            migrationBuilder.AddColumn<string>(
                name: "AllowedModels",
                table: "QuotaPolicies",
                type: "TEXT",
                maxLength: 4000,
                nullable: true);

            migrationBuilder.AddColumn<double>(
                name: "GpuSecondsPerDay",
                table: "QuotaPolicies",
                type: "REAL",
                nullable: true);

            migrationBuilder.AddColumn<int>(
                name: "MaxBatch",
                table: "QuotaPolicies",
                type: "INTEGER",
                nullable: true);

            migrationBuilder.AddColumn<long>(
                name: "MaxPixels",
                table: "QuotaPolicies",
                type: "INTEGER",
                nullable: true);

            migrationBuilder.AddColumn<int>(
                name: "MaxSteps",
                table: "QuotaPolicies",
                type: "INTEGER",
                nullable: true);

            migrationBuilder.AddColumn<string>(
                name: "UpdatedBy",
                table: "QuotaPolicies",
                type: "TEXT",
                maxLength: 450,
                nullable: true);

            migrationBuilder.AddColumn<string>(
                name: "Fit",
                table: "GenerationJobs",
                type: "TEXT",
                maxLength: 16,
                nullable: false,
                defaultValue: "");

            migrationBuilder.AddColumn<Guid>(
                name: "InitImageId",
                table: "GenerationJobs",
                type: "TEXT",
                nullable: true);

            migrationBuilder.AddColumn<Guid>(
                name: "InitUploadId",
                table: "GenerationJobs",
                type: "TEXT",
                nullable: true);

            migrationBuilder.AddColumn<float>(
                name: "Strength",
                table: "GenerationJobs",
                type: "REAL",
                nullable: true);

            migrationBuilder.AddColumn<string>(
                name: "Fit",
                table: "GeneratedImages",
                type: "TEXT",
                maxLength: 16,
                nullable: false,
                defaultValue: "");

            migrationBuilder.AddColumn<Guid>(
                name: "InitImageId",
                table: "GeneratedImages",
                type: "TEXT",
                nullable: true);

            migrationBuilder.AddColumn<Guid>(
                name: "InitUploadId",
                table: "GeneratedImages",
                type: "TEXT",
                nullable: true);

            migrationBuilder.AddColumn<float>(
                name: "Strength",
                table: "GeneratedImages",
                type: "REAL",
                nullable: true);

            migrationBuilder.AddColumn<long>(
                name: "DisabledAt",
                table: "AspNetUsers",
                type: "INTEGER",
                nullable: true);

            migrationBuilder.CreateTable(
                name: "A1111UserOptions",
                columns: table => new
                {
                    UserId = table.Column<string>(type: "TEXT", nullable: false),
                    SdModelCheckpoint = table.Column<string>(type: "TEXT", maxLength: 200, nullable: false),
                    UpdatedAt = table.Column<long>(type: "INTEGER", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_A1111UserOptions", x => x.UserId);
                    table.ForeignKey(
                        name: "FK_A1111UserOptions_AspNetUsers_UserId",
                        column: x => x.UserId,
                        principalTable: "AspNetUsers",
                        principalColumn: "Id",
                        onDelete: ReferentialAction.Cascade);
                });

            migrationBuilder.CreateTable(
                name: "AuditEntries",
                columns: table => new
                {
                    Id = table.Column<long>(type: "INTEGER", nullable: false)
                        .Annotation("Sqlite:Autoincrement", true),
                    At = table.Column<long>(type: "INTEGER", nullable: false),
                    ActorId = table.Column<string>(type: "TEXT", maxLength: 450, nullable: true),
                    ActorEmail = table.Column<string>(type: "TEXT", maxLength: 256, nullable: true),
                    Action = table.Column<string>(type: "TEXT", maxLength: 64, nullable: false),
                    TargetType = table.Column<string>(type: "TEXT", maxLength: 32, nullable: true),
                    TargetId = table.Column<string>(type: "TEXT", maxLength: 450, nullable: true),
                    Details = table.Column<string>(type: "TEXT", maxLength: 2000, nullable: true),
                    IpAddress = table.Column<string>(type: "TEXT", maxLength: 64, nullable: true),
                    UserAgent = table.Column<string>(type: "TEXT", maxLength: 256, nullable: true)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_AuditEntries", x => x.Id);
                });

            migrationBuilder.CreateTable(
                name: "Uploads",
                columns: table => new
                {
                    Id = table.Column<Guid>(type: "TEXT", nullable: false),
                    OwnerId = table.Column<string>(type: "TEXT", maxLength: 450, nullable: false),
                    Width = table.Column<int>(type: "INTEGER", nullable: false),
                    Height = table.Column<int>(type: "INTEGER", nullable: false),
                    SourceFormat = table.Column<string>(type: "TEXT", maxLength: 8, nullable: false),
                    FileSize = table.Column<long>(type: "INTEGER", nullable: false),
                    FileHash = table.Column<string>(type: "TEXT", maxLength: 64, nullable: false),
                    CreatedAt = table.Column<long>(type: "INTEGER", nullable: false),
                    UsedAt = table.Column<long>(type: "INTEGER", nullable: true)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_Uploads", x => x.Id);
                    table.ForeignKey(
                        name: "FK_Uploads_AspNetUsers_OwnerId",
                        column: x => x.OwnerId,
                        principalTable: "AspNetUsers",
                        principalColumn: "Id",
                        onDelete: ReferentialAction.Cascade);
                });

            migrationBuilder.CreateIndex(
                name: "IX_AuditEntries_At",
                table: "AuditEntries",
                column: "At");

            migrationBuilder.CreateIndex(
                name: "IX_AuditEntries_TargetType_TargetId",
                table: "AuditEntries",
                columns: new[] { "TargetType", "TargetId" });

            migrationBuilder.CreateIndex(
                name: "IX_Uploads_OwnerId_CreatedAt",
                table: "Uploads",
                columns: new[] { "OwnerId", "CreatedAt" });

            migrationBuilder.CreateIndex(
                name: "IX_Uploads_UsedAt_CreatedAt",
                table: "Uploads",
                columns: new[] { "UsedAt", "CreatedAt" });
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropTable(
                name: "A1111UserOptions");

            migrationBuilder.DropTable(
                name: "AuditEntries");

            migrationBuilder.DropTable(
                name: "Uploads");

            migrationBuilder.DropColumn(
                name: "AllowedModels",
                table: "QuotaPolicies");

            migrationBuilder.DropColumn(
                name: "GpuSecondsPerDay",
                table: "QuotaPolicies");

            migrationBuilder.DropColumn(
                name: "MaxBatch",
                table: "QuotaPolicies");

            migrationBuilder.DropColumn(
                name: "MaxPixels",
                table: "QuotaPolicies");

            migrationBuilder.DropColumn(
                name: "MaxSteps",
                table: "QuotaPolicies");

            migrationBuilder.DropColumn(
                name: "UpdatedBy",
                table: "QuotaPolicies");

            migrationBuilder.DropColumn(
                name: "Fit",
                table: "GenerationJobs");

            migrationBuilder.DropColumn(
                name: "InitImageId",
                table: "GenerationJobs");

            migrationBuilder.DropColumn(
                name: "InitUploadId",
                table: "GenerationJobs");

            migrationBuilder.DropColumn(
                name: "Strength",
                table: "GenerationJobs");

            migrationBuilder.DropColumn(
                name: "Fit",
                table: "GeneratedImages");

            migrationBuilder.DropColumn(
                name: "InitImageId",
                table: "GeneratedImages");

            migrationBuilder.DropColumn(
                name: "InitUploadId",
                table: "GeneratedImages");

            migrationBuilder.DropColumn(
                name: "Strength",
                table: "GeneratedImages");

            migrationBuilder.DropColumn(
                name: "DisabledAt",
                table: "AspNetUsers");

            migrationBuilder.AlterColumn<double>(
                name: "Weight",
                table: "QuotaPolicies",
                type: "REAL",
                nullable: false,
                defaultValue: 0.0,
                oldClrType: typeof(double),
                oldType: "REAL",
                oldNullable: true);
        }
    }
}
