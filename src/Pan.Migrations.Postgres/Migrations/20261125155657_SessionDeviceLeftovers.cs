using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Pan.Migrations.Postgres.Migrations
{
    /// <inheritdoc />
    public partial class SessionDeviceLeftovers : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            // Why: built first and concurrently (outside the migration's transaction), so sign-ins and logouts keep
            // writing auth_sessions meanwhile; if the build fails, drop the index it names and start again (README "Storage").
            migrationBuilder.CreateIndex(
                name: "ix_auth_sessions_ended_with_device",
                table: "auth_sessions",
                column: "id",
                filter: "\"revoked\" IS NOT NULL AND (\"client_ip\" IS NOT NULL OR \"user_agent\" IS NOT NULL)")
                .Annotation("Npgsql:CreatedConcurrently", true);
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
