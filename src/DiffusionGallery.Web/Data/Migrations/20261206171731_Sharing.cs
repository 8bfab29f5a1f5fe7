using System;
using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace DiffusionGallery.Web.Data.Migrations
{
    /// <inheritdoc />
    public partial class Sharing : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.AddColumn<bool>(
                name: "AllowRemix",
                table: "GeneratedImages",
                type: "INTEGER",
                nullable: false,
                defaultValue: true);

            migrationBuilder.AddColumn<bool>(
                name: "HidePrompt",
                table: "GeneratedImages",
                type: "INTEGER",
                nullable: false,
                defaultValue: false);

            migrationBuilder.AddColumn<int>(
                name: "LikeCount",
                table: "GeneratedImages",
                type: "INTEGER",
                nullable: false,
                defaultValue: 0);

            migrationBuilder.AddColumn<int>(
                name: "RemixCount",
                table: "GeneratedImages",
                type: "INTEGER",
                nullable: false,
                defaultValue: 0);

            migrationBuilder.AddColumn<long>(
                name: "TakenDownAt",
                table: "GeneratedImages",
                type: "INTEGER",
                nullable: true);

            migrationBuilder.AddColumn<string>(
                name: "DefaultVisibility",
                table: "AspNetUsers",
                type: "TEXT",
                maxLength: 16,
                nullable: false,
                defaultValue: "Private");

            migrationBuilder.AddColumn<string>(
                name: "DisplayName",
                table: "AspNetUsers",
                type: "TEXT",
                maxLength: 60,
                nullable: true);

            migrationBuilder.AddColumn<string>(
                name: "Handle",
                table: "AspNetUsers",
                type: "TEXT",
                maxLength: 30,
                nullable: true);

            migrationBuilder.CreateTable(
                name: "Collections",
                columns: table => new
                {
                    Id = table.Column<Guid>(type: "TEXT", nullable: false),
                    OwnerId = table.Column<string>(type: "TEXT", maxLength: 450, nullable: false),
                    Name = table.Column<string>(type: "TEXT", maxLength: 100, nullable: false),
                    Description = table.Column<string>(type: "TEXT", maxLength: 1000, nullable: false),
                    Visibility = table.Column<string>(type: "TEXT", maxLength: 16, nullable: false),
                    ShareToken = table.Column<string>(type: "TEXT", maxLength: 64, nullable: true),
                    CoverImageId = table.Column<Guid>(type: "TEXT", nullable: true),
                    CreatedAt = table.Column<long>(type: "INTEGER", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_Collections", x => x.Id);
                    table.ForeignKey(
                        name: "FK_Collections_AspNetUsers_OwnerId",
                        column: x => x.OwnerId,
                        principalTable: "AspNetUsers",
                        principalColumn: "Id",
                        onDelete: ReferentialAction.Cascade);
                    table.ForeignKey(
                        name: "FK_Collections_GeneratedImages_CoverImageId",
                        column: x => x.CoverImageId,
                        principalTable: "GeneratedImages",
                        principalColumn: "Id",
                        onDelete: ReferentialAction.SetNull);
                });

            migrationBuilder.CreateTable(
                name: "CollectionImages",
                columns: table => new
                {
                    CollectionId = table.Column<Guid>(type: "TEXT", nullable: false),
                    ImageId = table.Column<Guid>(type: "TEXT", nullable: false),
                    Position = table.Column<int>(type: "INTEGER", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_CollectionImages", x => new { x.CollectionId, x.ImageId });
                    table.ForeignKey(
                        name: "FK_CollectionImages_Collections_CollectionId",
                        column: x => x.CollectionId,
                        principalTable: "Collections",
                        principalColumn: "Id",
                        onDelete: ReferentialAction.Cascade);
                    table.ForeignKey(
                        name: "FK_CollectionImages_GeneratedImages_ImageId",
                        column: x => x.ImageId,
                        principalTable: "GeneratedImages",
                        principalColumn: "Id",
                        onDelete: ReferentialAction.Cascade);
                });

            migrationBuilder.CreateIndex(
                name: "IX_GeneratedImages_Visibility_TakenDownAt_CreatedAt_Id",
                table: "GeneratedImages",
                columns: new[] { "Visibility", "TakenDownAt", "CreatedAt", "Id" });

            migrationBuilder.CreateIndex(
                name: "IX_GeneratedImages_Visibility_TakenDownAt_LikeCount_CreatedAt_Id",
                table: "GeneratedImages",
                columns: new[] { "Visibility", "TakenDownAt", "LikeCount", "CreatedAt", "Id" });

            migrationBuilder.CreateIndex(
                name: "IX_GeneratedImages_Visibility_TakenDownAt_RemixCount_CreatedAt_Id",
                table: "GeneratedImages",
                columns: new[] { "Visibility", "TakenDownAt", "RemixCount", "CreatedAt", "Id" });

            migrationBuilder.CreateIndex(
                name: "IX_AspNetUsers_Handle",
                table: "AspNetUsers",
                column: "Handle",
                unique: true);

            migrationBuilder.CreateIndex(
                name: "IX_CollectionImages_ImageId",
                table: "CollectionImages",
                column: "ImageId");

            migrationBuilder.CreateIndex(
                name: "IX_Collections_CoverImageId",
                table: "Collections",
                column: "CoverImageId");

            migrationBuilder.CreateIndex(
                name: "IX_Collections_OwnerId_CreatedAt",
                table: "Collections",
                columns: new[] { "OwnerId", "CreatedAt" });

            migrationBuilder.CreateIndex(
                name: "IX_Collections_ShareToken",
                table: "Collections",
                column: "ShareToken",
                unique: true);
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropTable(
                name: "CollectionImages");

            migrationBuilder.DropTable(
                name: "Collections");

            migrationBuilder.DropIndex(
                name: "IX_GeneratedImages_Visibility_TakenDownAt_CreatedAt_Id",
                table: "GeneratedImages");

            migrationBuilder.DropIndex(
                name: "IX_GeneratedImages_Visibility_TakenDownAt_LikeCount_CreatedAt_Id",
                table: "GeneratedImages");

            migrationBuilder.DropIndex(
                name: "IX_GeneratedImages_Visibility_TakenDownAt_RemixCount_CreatedAt_Id",
                table: "GeneratedImages");

            migrationBuilder.DropIndex(
                name: "IX_AspNetUsers_Handle",
                table: "AspNetUsers");

            migrationBuilder.DropColumn(
                name: "AllowRemix",
                table: "GeneratedImages");

            migrationBuilder.DropColumn(
                name: "HidePrompt",
                table: "GeneratedImages");

            migrationBuilder.DropColumn(
                name: "LikeCount",
                table: "GeneratedImages");

            migrationBuilder.DropColumn(
                name: "RemixCount",
                table: "GeneratedImages");

            migrationBuilder.DropColumn(
                name: "TakenDownAt",
                table: "GeneratedImages");

            migrationBuilder.DropColumn(
                name: "DefaultVisibility",
                table: "AspNetUsers");

            migrationBuilder.DropColumn(
                name: "DisplayName",
                table: "AspNetUsers");

            migrationBuilder.DropColumn(
                name: "Handle",
                table: "AspNetUsers");
        }
    }
}
