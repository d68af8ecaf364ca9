using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Pan.Migrations.Postgres.Migrations
{
    /// <inheritdoc />
    public partial class EmailKeyVerifiedOnly : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropIndex(
                name: "ux_members_email_key",
                table: "members");

            migrationBuilder.CreateIndex(
                name: "ux_members_email_key",
                table: "members",
                column: "email_key",
                unique: true,
                filter: "\"email_verified\"");
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropIndex(
                name: "ux_members_email_key",
                table: "members");

            migrationBuilder.CreateIndex(
                name: "ux_members_email_key",
                table: "members",
                column: "email_key",
                unique: true);
        }
    }
}
