using Microsoft.EntityFrameworkCore.Migrations;
using Npgsql.EntityFrameworkCore.PostgreSQL.Metadata;

#nullable disable

namespace Pan.Migrations.Postgres.Migrations
{
    /// <inheritdoc />
    public partial class GuestAccounts : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.CreateTable(
                name: "guest_accounts",
                columns: table => new
                {
                    uid = table.Column<long>(type: "bigint", nullable: false),
                    app_id = table.Column<string>(type: "character varying(32)", maxLength: 32, nullable: false),
                    temporary = table.Column<bool>(type: "boolean", nullable: false),
                    name_type = table.Column<string>(type: "character varying(8)", maxLength: 8, nullable: true),
                    account_name = table.Column<string>(type: "character varying(254)", maxLength: 254, nullable: true),
                    account_key = table.Column<string>(type: "character varying(260)", maxLength: 260, nullable: true),
                    mobile_e164 = table.Column<string>(type: "character varying(20)", maxLength: 20, nullable: true),
                    mobile_verified = table.Column<bool>(type: "boolean", nullable: false),
                    contact_email = table.Column<string>(type: "character varying(254)", maxLength: 254, nullable: true),
                    first_name = table.Column<string>(type: "character varying(100)", maxLength: 100, nullable: true),
                    last_name = table.Column<string>(type: "character varying(100)", maxLength: 100, nullable: true),
                    address = table.Column<string>(type: "character varying(500)", maxLength: 500, nullable: true),
                    aux = table.Column<string>(type: "character varying(8192)", maxLength: 8192, nullable: true),
                    act_scheme = table.Column<int>(type: "integer", nullable: false),
                    pending_password_hash = table.Column<string>(type: "character varying(256)", maxLength: 256, nullable: true),
                    activated = table.Column<long>(type: "bigint", nullable: true),
                    created = table.Column<long>(type: "bigint", nullable: false),
                    created_ip = table.Column<string>(type: "character varying(64)", maxLength: 64, nullable: true),
                    converted = table.Column<long>(type: "bigint", nullable: true)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_guest_accounts", x => x.uid);
                    table.ForeignKey(
                        name: "FK_guest_accounts_members_uid",
                        column: x => x.uid,
                        principalTable: "members",
                        principalColumn: "uid",
                        onDelete: ReferentialAction.Restrict);
                });

            migrationBuilder.CreateTable(
                name: "guest_activations",
                columns: table => new
                {
                    id = table.Column<long>(type: "bigint", nullable: false)
                        .Annotation("Npgsql:ValueGenerationStrategy", NpgsqlValueGenerationStrategy.IdentityByDefaultColumn),
                    act_id = table.Column<string>(type: "character varying(32)", maxLength: 32, nullable: false),
                    uid = table.Column<long>(type: "bigint", nullable: false),
                    scheme = table.Column<int>(type: "integer", nullable: false),
                    target = table.Column<string>(type: "character varying(254)", maxLength: 254, nullable: false),
                    secret_hash = table.Column<byte[]>(type: "bytea", maxLength: 32, nullable: false),
                    attempts = table.Column<int>(type: "integer", nullable: false),
                    created = table.Column<long>(type: "bigint", nullable: false),
                    expires = table.Column<long>(type: "bigint", nullable: false),
                    used_at = table.Column<long>(type: "bigint", nullable: true)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_guest_activations", x => x.id);
                });

            migrationBuilder.CreateTable(
                name: "guest_app_settings",
                columns: table => new
                {
                    app_id = table.Column<string>(type: "character varying(32)", maxLength: 32, nullable: false),
                    account_name_type = table.Column<string>(type: "character varying(8)", maxLength: 8, nullable: false),
                    activation = table.Column<string>(type: "character varying(8)", maxLength: 8, nullable: false),
                    locale = table.Column<string>(type: "character varying(16)", maxLength: 16, nullable: false),
                    modified = table.Column<long>(type: "bigint", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_guest_app_settings", x => x.app_id);
                });

            migrationBuilder.CreateTable(
                name: "guest_tokens",
                columns: table => new
                {
                    hash = table.Column<byte[]>(type: "bytea", maxLength: 32, nullable: false),
                    uid = table.Column<long>(type: "bigint", nullable: false),
                    app_id = table.Column<string>(type: "character varying(32)", maxLength: 32, nullable: false),
                    kind = table.Column<string>(type: "character varying(8)", maxLength: 8, nullable: false),
                    token_generation = table.Column<long>(type: "bigint", nullable: false),
                    created = table.Column<long>(type: "bigint", nullable: false),
                    expires = table.Column<long>(type: "bigint", nullable: false),
                    revoked = table.Column<long>(type: "bigint", nullable: true)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_guest_tokens", x => x.hash);
                });

            migrationBuilder.CreateIndex(
                name: "ix_guest_accounts_created_ip",
                table: "guest_accounts",
                columns: new[] { "created_ip", "created" });

            migrationBuilder.CreateIndex(
                name: "ix_guest_accounts_mobile",
                table: "guest_accounts",
                column: "mobile_e164");

            migrationBuilder.CreateIndex(
                name: "ux_guest_accounts_account_key",
                table: "guest_accounts",
                column: "account_key",
                unique: true);

            migrationBuilder.CreateIndex(
                name: "ix_guest_activations_target",
                table: "guest_activations",
                columns: new[] { "target", "scheme" });

            migrationBuilder.CreateIndex(
                name: "ix_guest_activations_uid",
                table: "guest_activations",
                column: "uid");

            migrationBuilder.CreateIndex(
                name: "ux_guest_activations_act_id",
                table: "guest_activations",
                column: "act_id",
                unique: true);

            migrationBuilder.CreateIndex(
                name: "ux_guest_activations_secret_hash",
                table: "guest_activations",
                column: "secret_hash",
                unique: true);

            migrationBuilder.CreateIndex(
                name: "ix_guest_tokens_expires",
                table: "guest_tokens",
                column: "expires");

            migrationBuilder.CreateIndex(
                name: "ix_guest_tokens_uid",
                table: "guest_tokens",
                column: "uid");
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropTable(
                name: "guest_accounts");

            migrationBuilder.DropTable(
                name: "guest_activations");

            migrationBuilder.DropTable(
                name: "guest_app_settings");

            migrationBuilder.DropTable(
                name: "guest_tokens");
        }
    }
}
