using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Pan.Migrations.Sqlite.Migrations
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

            // Why: below this migration every email key is unique, verified or not. Claims that would collide are
            // dropped first: a verified member keeps its address, otherwise the oldest claim (lowest uid) does.
            migrationBuilder.Sql(
                """
                UPDATE members SET email = NULL, email_key = NULL
                WHERE email_key IS NOT NULL AND NOT email_verified
                  AND EXISTS (SELECT 1 FROM members o
                              WHERE o.email_key = members.email_key AND o.uid <> members.uid
                                AND (o.email_verified OR o.uid < members.uid));
                """);

            migrationBuilder.CreateIndex(
                name: "ux_members_email_key",
                table: "members",
                column: "email_key",
                unique: true);
        }
    }
}
