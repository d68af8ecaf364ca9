using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Pan.Migrations.Sqlite.Migrations
{
    /// <inheritdoc />
    public partial class Admin : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.CreateTable(
                name: "admin_sessions",
                columns: table => new
                {
                    hash = table.Column<byte[]>(type: "BLOB", maxLength: 32, nullable: false),
                    email = table.Column<string>(type: "TEXT", maxLength: 254, nullable: false),
                    created = table.Column<long>(type: "INTEGER", nullable: false),
                    expires = table.Column<long>(type: "INTEGER", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_admin_sessions", x => x.hash);
                });

            migrationBuilder.CreateTable(
                name: "admins",
                columns: table => new
                {
                    email = table.Column<string>(type: "TEXT", maxLength: 254, nullable: false),
                    roles = table.Column<string>(type: "TEXT", maxLength: 200, nullable: false),
                    created = table.Column<long>(type: "INTEGER", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_admins", x => x.email);
                });

            migrationBuilder.CreateTable(
                name: "apps",
                columns: table => new
                {
                    app_id = table.Column<string>(type: "TEXT", maxLength: 32, nullable: false),
                    name = table.Column<string>(type: "TEXT", maxLength: 100, nullable: false),
                    secret_hash = table.Column<byte[]>(type: "BLOB", maxLength: 32, nullable: true),
                    auth_hosts = table.Column<string>(type: "TEXT", maxLength: 2000, nullable: false),
                    created = table.Column<long>(type: "INTEGER", nullable: false),
                    secret_rotated = table.Column<long>(type: "INTEGER", nullable: true)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_apps", x => x.app_id);
                });

            migrationBuilder.CreateTable(
                name: "import_map",
                columns: table => new
                {
                    source = table.Column<string>(type: "TEXT", maxLength: 16, nullable: false),
                    legacy_id = table.Column<string>(type: "TEXT", maxLength: 64, nullable: false),
                    uid = table.Column<long>(type: "INTEGER", nullable: false),
                    imported = table.Column<long>(type: "INTEGER", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_import_map", x => new { x.source, x.legacy_id });
                });

            migrationBuilder.CreateTable(
                name: "login_tokens",
                columns: table => new
                {
                    hash = table.Column<byte[]>(type: "BLOB", maxLength: 32, nullable: false),
                    app_id = table.Column<string>(type: "TEXT", maxLength: 32, nullable: false),
                    auth_url = table.Column<string>(type: "TEXT", maxLength: 2048, nullable: false),
                    uid = table.Column<long>(type: "INTEGER", nullable: false),
                    session_id = table.Column<long>(type: "INTEGER", nullable: false),
                    token_generation = table.Column<long>(type: "INTEGER", nullable: false),
                    created = table.Column<long>(type: "INTEGER", nullable: false),
                    expires = table.Column<long>(type: "INTEGER", nullable: false),
                    used_at = table.Column<long>(type: "INTEGER", nullable: true)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_login_tokens", x => x.hash);
                });

            migrationBuilder.CreateIndex(
                name: "ix_admin_sessions_email",
                table: "admin_sessions",
                column: "email");

            migrationBuilder.CreateIndex(
                name: "ix_admin_sessions_expires",
                table: "admin_sessions",
                column: "expires");

            migrationBuilder.CreateIndex(
                name: "ux_import_map_uid",
                table: "import_map",
                column: "uid",
                unique: true);

            migrationBuilder.CreateIndex(
                name: "ix_login_tokens_expires",
                table: "login_tokens",
                column: "expires");
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropTable(
                name: "admin_sessions");

            migrationBuilder.DropTable(
                name: "admins");

            migrationBuilder.DropTable(
                name: "apps");

            migrationBuilder.DropTable(
                name: "import_map");

            migrationBuilder.DropTable(
                name: "login_tokens");
        }
    }
}
