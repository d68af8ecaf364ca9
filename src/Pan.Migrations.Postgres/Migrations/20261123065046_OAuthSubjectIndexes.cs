using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Pan.Migrations.Postgres.Migrations
{
    /// <inheritdoc />
    public partial class OAuthSubjectIndexes : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.CreateIndex(
                name: "ix_oauth_tokens_subject_status",
                table: "oauth_tokens",
                columns: new[] { "Subject", "Status" })
                .Annotation("Npgsql:CreatedConcurrently", true);

            migrationBuilder.CreateIndex(
                name: "ix_oauth_authorizations_subject",
                table: "oauth_authorizations",
                column: "Subject")
                .Annotation("Npgsql:CreatedConcurrently", true);
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropIndex(
                name: "ix_oauth_tokens_subject_status",
                table: "oauth_tokens");

            migrationBuilder.DropIndex(
                name: "ix_oauth_authorizations_subject",
                table: "oauth_authorizations");
        }
    }
}
