using Microsoft.EntityFrameworkCore.Migrations;
using Npgsql.EntityFrameworkCore.PostgreSQL.Metadata;

#nullable disable

namespace Pan.Migrations.Postgres.Migrations
{
    /// <inheritdoc />
    public partial class PhoneFirst : Migration
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
                name: "phase_sessions",
                columns: table => new
                {
                    id = table.Column<long>(type: "bigint", nullable: false)
                        .Annotation("Npgsql:ValueGenerationStrategy", NpgsqlValueGenerationStrategy.IdentityByDefaultColumn),
                    token_hash = table.Column<byte[]>(type: "bytea", maxLength: 32, nullable: false),
                    purpose = table.Column<string>(type: "character varying(32)", maxLength: 32, nullable: false),
                    phone_e164 = table.Column<string>(type: "character varying(20)", maxLength: 20, nullable: true),
                    phone_country_code = table.Column<int>(type: "integer", nullable: false),
                    uid = table.Column<long>(type: "bigint", nullable: true),
                    phase = table.Column<int>(type: "integer", nullable: false),
                    captcha_required = table.Column<bool>(type: "boolean", nullable: false),
                    captcha_passed = table.Column<bool>(type: "boolean", nullable: false),
                    code_hash = table.Column<byte[]>(type: "bytea", maxLength: 32, nullable: true),
                    code_salt = table.Column<byte[]>(type: "bytea", maxLength: 16, nullable: true),
                    code_sent_at = table.Column<long>(type: "bigint", nullable: true),
                    code_expires = table.Column<long>(type: "bigint", nullable: true),
                    code_attempts = table.Column<int>(type: "integer", nullable: false),
                    codes_sent = table.Column<int>(type: "integer", nullable: false),
                    code_verified_at = table.Column<long>(type: "bigint", nullable: true),
                    completed_at = table.Column<long>(type: "bigint", nullable: true),
                    created = table.Column<long>(type: "bigint", nullable: false),
                    expires = table.Column<long>(type: "bigint", nullable: false),
                    client_ip = table.Column<string>(type: "character varying(64)", maxLength: 64, nullable: true)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_phase_sessions", x => x.id);
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
                name: "sms_sends",
                columns: table => new
                {
                    id = table.Column<long>(type: "bigint", nullable: false)
                        .Annotation("Npgsql:ValueGenerationStrategy", NpgsqlValueGenerationStrategy.IdentityByDefaultColumn),
                    phone_hash = table.Column<byte[]>(type: "bytea", maxLength: 32, nullable: false),
                    country_code = table.Column<int>(type: "integer", nullable: false),
                    ip = table.Column<string>(type: "character varying(64)", maxLength: 64, nullable: true),
                    purpose = table.Column<string>(type: "character varying(32)", maxLength: 32, nullable: false),
                    outcome = table.Column<int>(type: "integer", nullable: false),
                    blocked_reason = table.Column<string>(type: "character varying(32)", maxLength: 32, nullable: true),
                    created = table.Column<long>(type: "bigint", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_sms_sends", x => x.id);
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
                name: "ix_phase_sessions_expires",
                table: "phase_sessions",
                column: "expires");

            migrationBuilder.CreateIndex(
                name: "ux_phase_sessions_token_hash",
                table: "phase_sessions",
                column: "token_hash",
                unique: true);

            migrationBuilder.CreateIndex(
                name: "ux_signing_keys_generation",
                table: "signing_keys",
                column: "generation",
                unique: true);

            migrationBuilder.CreateIndex(
                name: "ix_sms_sends_country_created",
                table: "sms_sends",
                columns: new[] { "country_code", "created", "outcome" });

            migrationBuilder.CreateIndex(
                name: "ix_sms_sends_ip_created",
                table: "sms_sends",
                columns: new[] { "ip", "created", "outcome" });

            migrationBuilder.CreateIndex(
                name: "ix_sms_sends_phone_created",
                table: "sms_sends",
                columns: new[] { "phone_hash", "created", "outcome" });

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
                name: "phase_sessions");

            migrationBuilder.DropTable(
                name: "signing_keys");

            migrationBuilder.DropTable(
                name: "sms_sends");

            migrationBuilder.DropTable(
                name: "verify_tokens");

            migrationBuilder.DropTable(
                name: "auth_sessions");
        }
    }
}
