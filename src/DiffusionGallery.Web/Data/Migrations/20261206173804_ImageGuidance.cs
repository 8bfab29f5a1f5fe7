using System;
using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace DiffusionGallery.Web.Data.Migrations
{
    /// <inheritdoc />
    public partial class ImageGuidance : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.AddColumn<string>(
                name: "Fit",
                table: "GenerationJobs",
                type: "TEXT",
                maxLength: 16,
                nullable: false,
                defaultValue: "Crop");

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
                defaultValue: "Crop");

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
                name: "Uploads");

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
        }
    }
}
