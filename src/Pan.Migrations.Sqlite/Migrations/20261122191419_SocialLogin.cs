using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Pan.Migrations.Sqlite.Migrations
{
    /// <inheritdoc />
    public partial class SocialLogin : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.CreateTable(
                name: "omniauth_refresh_tokens",
                columns: table => new
                {
                    hash = table.Column<byte[]>(type: "BLOB", maxLength: 32, nullable: false),
                    session_id = table.Column<long>(type: "INTEGER", nullable: false),
                    uid = table.Column<long>(type: "INTEGER", nullable: false),
                    app_id = table.Column<string>(type: "TEXT", maxLength: 32, nullable: false),
                    token_generation = table.Column<long>(type: "INTEGER", nullable: false),
                    created = table.Column<long>(type: "INTEGER", nullable: false),
                    expires = table.Column<long>(type: "INTEGER", nullable: false),
                    used_at = table.Column<long>(type: "INTEGER", nullable: true)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_omniauth_refresh_tokens", x => x.hash);
                    table.ForeignKey(
                        name: "FK_omniauth_refresh_tokens_auth_sessions_session_id",
                        column: x => x.session_id,
                        principalTable: "auth_sessions",
                        principalColumn: "id",
                        onDelete: ReferentialAction.Cascade);
                });

            migrationBuilder.CreateTable(
                name: "rate_counters",
                columns: table => new
                {
                    scope = table.Column<string>(type: "TEXT", maxLength: 128, nullable: false),
                    window_start = table.Column<long>(type: "INTEGER", nullable: false),
                    count = table.Column<int>(type: "INTEGER", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_rate_counters", x => new { x.scope, x.window_start });
                });

            migrationBuilder.CreateTable(
                name: "social_identities",
                columns: table => new
                {
                    id = table.Column<long>(type: "INTEGER", nullable: false)
                        .Annotation("Sqlite:Autoincrement", true),
                    provider = table.Column<string>(type: "TEXT", maxLength: 32, nullable: false),
                    provider_user_id = table.Column<string>(type: "TEXT", maxLength: 128, nullable: false),
                    uid = table.Column<long>(type: "INTEGER", nullable: false),
                    created = table.Column<long>(type: "INTEGER", nullable: false),
                    last_used = table.Column<long>(type: "INTEGER", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_social_identities", x => x.id);
                });

            migrationBuilder.CreateIndex(
                name: "ix_omniauth_refresh_tokens_session_id",
                table: "omniauth_refresh_tokens",
                column: "session_id");

            migrationBuilder.CreateIndex(
                name: "ix_rate_counters_window_start",
                table: "rate_counters",
                column: "window_start");

            migrationBuilder.CreateIndex(
                name: "ux_social_identities_provider_user",
                table: "social_identities",
                columns: new[] { "provider", "provider_user_id" },
                unique: true);

            migrationBuilder.CreateIndex(
                name: "ux_social_identities_uid_provider",
                table: "social_identities",
                columns: new[] { "uid", "provider" },
                unique: true);
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropTable(
                name: "omniauth_refresh_tokens");

            migrationBuilder.DropTable(
                name: "rate_counters");

            migrationBuilder.DropTable(
                name: "social_identities");
        }
    }
}
