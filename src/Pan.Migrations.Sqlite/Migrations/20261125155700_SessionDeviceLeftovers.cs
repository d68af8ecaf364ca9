using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Pan.Migrations.Sqlite.Migrations
{
    /// <inheritdoc />
    public partial class SessionDeviceLeftovers : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.CreateIndex(
                name: "ix_auth_sessions_ended_with_device",
                table: "auth_sessions",
                column: "id",
                filter: "\"revoked\" IS NOT NULL AND (\"client_ip\" IS NOT NULL OR \"user_agent\" IS NOT NULL)");
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropIndex(
                name: "ix_auth_sessions_ended_with_device",
                table: "auth_sessions");
        }
    }
}
