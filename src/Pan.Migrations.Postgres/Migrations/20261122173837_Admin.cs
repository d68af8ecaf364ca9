using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Pan.Migrations.Postgres.Migrations
{
    /// <inheritdoc />
    public partial class Admin : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.AlterColumn<string>(
                name: "target",
                table: "audit_log",
                type: "character varying(300)",
                maxLength: 300,
                nullable: false,
                oldClrType: typeof(string),
                oldType: "character varying(128)",
                oldMaxLength: 128);

            migrationBuilder.AlterColumn<string>(
                name: "outcome",
                table: "audit_log",
                type: "character varying(300)",
                maxLength: 300,
                nullable: false,
                oldClrType: typeof(string),
                oldType: "character varying(64)",
                oldMaxLength: 64);

            migrationBuilder.AlterColumn<string>(
                name: "actor",
                table: "audit_log",
                type: "character varying(254)",
                maxLength: 254,
                nullable: false,
                oldClrType: typeof(string),
                oldType: "character varying(64)",
                oldMaxLength: 64);

            migrationBuilder.CreateTable(
                name: "admin_sessions",
                columns: table => new
                {
                    hash = table.Column<byte[]>(type: "bytea", maxLength: 32, nullable: false),
                    email = table.Column<string>(type: "character varying(254)", maxLength: 254, nullable: false),
                    created = table.Column<long>(type: "bigint", nullable: false),
                    expires = table.Column<long>(type: "bigint", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_admin_sessions", x => x.hash);
                });

            migrationBuilder.CreateTable(
                name: "admins",
                columns: table => new
                {
                    email = table.Column<string>(type: "character varying(254)", maxLength: 254, nullable: false),
                    roles = table.Column<string>(type: "character varying(200)", maxLength: 200, nullable: false),
                    created = table.Column<long>(type: "bigint", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_admins", x => x.email);
                });

            migrationBuilder.CreateTable(
                name: "apps",
                columns: table => new
                {
                    app_id = table.Column<string>(type: "character varying(32)", maxLength: 32, nullable: false),
                    name = table.Column<string>(type: "character varying(100)", maxLength: 100, nullable: false),
                    secret_hash = table.Column<byte[]>(type: "bytea", maxLength: 32, nullable: true),
                    auth_hosts = table.Column<string>(type: "character varying(2000)", maxLength: 2000, nullable: false),
                    created = table.Column<long>(type: "bigint", nullable: false),
                    secret_rotated = table.Column<long>(type: "bigint", nullable: true)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_apps", x => x.app_id);
                });

            migrationBuilder.CreateTable(
                name: "import_map",
                columns: table => new
                {
                    source = table.Column<string>(type: "character varying(16)", maxLength: 16, nullable: false),
                    legacy_id = table.Column<string>(type: "character varying(64)", maxLength: 64, nullable: false),
                    uid = table.Column<long>(type: "bigint", nullable: false),
                    imported = table.Column<long>(type: "bigint", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_import_map", x => new { x.source, x.legacy_id });
                });

            migrationBuilder.CreateTable(
                name: "login_tokens",
                columns: table => new
                {
                    hash = table.Column<byte[]>(type: "bytea", maxLength: 32, nullable: false),
                    app_id = table.Column<string>(type: "character varying(32)", maxLength: 32, nullable: false),
                    auth_url = table.Column<string>(type: "character varying(2048)", maxLength: 2048, nullable: false),
                    uid = table.Column<long>(type: "bigint", nullable: false),
                    session_id = table.Column<long>(type: "bigint", nullable: false),
                    token_generation = table.Column<long>(type: "bigint", nullable: false),
                    created = table.Column<long>(type: "bigint", nullable: false),
                    expires = table.Column<long>(type: "bigint", nullable: false),
                    used_at = table.Column<long>(type: "bigint", nullable: true)
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

            migrationBuilder.AlterColumn<string>(
                name: "target",
                table: "audit_log",
                type: "character varying(128)",
                maxLength: 128,
                nullable: false,
                oldClrType: typeof(string),
                oldType: "character varying(300)",
                oldMaxLength: 300);

            migrationBuilder.AlterColumn<string>(
                name: "outcome",
                table: "audit_log",
                type: "character varying(64)",
                maxLength: 64,
                nullable: false,
                oldClrType: typeof(string),
                oldType: "character varying(300)",
                oldMaxLength: 300);

            migrationBuilder.AlterColumn<string>(
                name: "actor",
                table: "audit_log",
                type: "character varying(64)",
                maxLength: 64,
                nullable: false,
                oldClrType: typeof(string),
                oldType: "character varying(254)",
                oldMaxLength: 254);
        }
    }
}
