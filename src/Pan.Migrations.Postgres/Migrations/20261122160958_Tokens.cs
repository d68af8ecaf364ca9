using Microsoft.EntityFrameworkCore.Migrations;
using Npgsql.EntityFrameworkCore.PostgreSQL.Metadata;

#nullable disable

namespace Pan.Migrations.Postgres.Migrations
{
    /// <inheritdoc />
    public partial class Tokens : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.CreateTable(
                name: "auth_sessions",
                columns: table => new
                {
                    id = table.Column<long>(type: "bigint", nullable: false)
                        .Annotation("Npgsql:ValueGenerationStrategy", NpgsqlValueGenerationStrategy.IdentityByDefaultColumn),
                    account_id = table.Column<long>(type: "bigint", nullable: false),
                    uid = table.Column<long>(type: "bigint", nullable: false),
                    auth_method = table.Column<string>(type: "character varying(32)", maxLength: 32, nullable: false),
                    created = table.Column<long>(type: "bigint", nullable: false),
                    expires = table.Column<long>(type: "bigint", nullable: false),
                    revoked = table.Column<long>(type: "bigint", nullable: true)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_auth_sessions", x => x.id);
                });

            migrationBuilder.CreateTable(
                name: "signing_keys",
                columns: table => new
                {
                    kid = table.Column<string>(type: "character varying(32)", maxLength: 32, nullable: false),
                    generation = table.Column<long>(type: "bigint", nullable: false),
                    secret = table.Column<byte[]>(type: "bytea", nullable: false),
                    created = table.Column<long>(type: "bigint", nullable: false),
                    activates = table.Column<long>(type: "bigint", nullable: false),
                    retires = table.Column<long>(type: "bigint", nullable: true)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_signing_keys", x => x.kid);
                });

            migrationBuilder.CreateTable(
                name: "verify_tokens",
                columns: table => new
                {
                    hash = table.Column<byte[]>(type: "bytea", maxLength: 32, nullable: false),
                    uid = table.Column<long>(type: "bigint", nullable: false),
                    purpose = table.Column<string>(type: "character varying(32)", maxLength: 32, nullable: false),
                    created = table.Column<long>(type: "bigint", nullable: false),
                    expires = table.Column<long>(type: "bigint", nullable: false),
                    used_at = table.Column<long>(type: "bigint", nullable: true)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_verify_tokens", x => x.hash);
                });

            migrationBuilder.CreateTable(
                name: "access_tokens",
                columns: table => new
                {
                    hash = table.Column<byte[]>(type: "bytea", maxLength: 32, nullable: false),
                    session_id = table.Column<long>(type: "bigint", nullable: false),
                    uid = table.Column<long>(type: "bigint", nullable: false),
                    app_id = table.Column<string>(type: "character varying(32)", maxLength: 32, nullable: false),
                    token_generation = table.Column<long>(type: "bigint", nullable: false),
                    created = table.Column<long>(type: "bigint", nullable: false),
                    expires = table.Column<long>(type: "bigint", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_access_tokens", x => x.hash);
                    table.ForeignKey(
                        name: "FK_access_tokens_auth_sessions_session_id",
                        column: x => x.session_id,
                        principalTable: "auth_sessions",
                        principalColumn: "id",
                        onDelete: ReferentialAction.Cascade);
                });

            migrationBuilder.CreateIndex(
                name: "ix_access_tokens_expires",
                table: "access_tokens",
                column: "expires");

            migrationBuilder.CreateIndex(
                name: "ix_access_tokens_session_id",
                table: "access_tokens",
                column: "session_id");

            migrationBuilder.CreateIndex(
                name: "ix_auth_sessions_account_id",
                table: "auth_sessions",
                column: "account_id");

            migrationBuilder.CreateIndex(
                name: "ix_auth_sessions_expires",
                table: "auth_sessions",
                column: "expires");

            migrationBuilder.CreateIndex(
                name: "ix_auth_sessions_uid",
                table: "auth_sessions",
                column: "uid");

            migrationBuilder.CreateIndex(
                name: "ux_signing_keys_generation",
                table: "signing_keys",
                column: "generation",
                unique: true);

            migrationBuilder.CreateIndex(
                name: "ix_verify_tokens_expires",
                table: "verify_tokens",
                column: "expires");
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropTable(
                name: "access_tokens");

            migrationBuilder.DropTable(
                name: "signing_keys");

            migrationBuilder.DropTable(
                name: "verify_tokens");

            migrationBuilder.DropTable(
                name: "auth_sessions");
        }
    }
}
