using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace DiffusionGallery.Web.Data.Migrations
{
    /// <inheritdoc />
    public partial class BatchedServing : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.AddColumn<int>(
                name: "BatchSize",
                table: "GenerationJobs",
                type: "INTEGER",
                nullable: true);
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropColumn(
                name: "BatchSize",
                table: "GenerationJobs");
        }
    }
}
