using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Pan.Migrations.Postgres.Migrations
{
    /// <inheritdoc />
    public partial class AppEventSecretOverlap : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.AddColumn<byte[]>(
                name: "previous_secret",
                table: "app_event_subscriptions",
                type: "bytea",
                maxLength: 256,
                nullable: true);

            migrationBuilder.AddColumn<long>(
                name: "previous_secret_until",
                table: "app_event_subscriptions",
                type: "bigint",
                nullable: true);
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropColumn(
                name: "previous_secret",
                table: "app_event_subscriptions");

            migrationBuilder.DropColumn(
                name: "previous_secret_until",
                table: "app_event_subscriptions");
        }
    }
}
