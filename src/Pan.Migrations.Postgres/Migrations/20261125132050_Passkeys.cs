using System;
using Microsoft.EntityFrameworkCore.Migrations;
using Npgsql.EntityFrameworkCore.PostgreSQL.Metadata;

#nullable disable

namespace Pan.Migrations.Postgres.Migrations
{
    /// <inheritdoc />
    public partial class Passkeys : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.CreateTable(
                name: "member_passkeys",
                columns: table => new
                {
                    id = table.Column<long>(type: "bigint", nullable: false)
                        .Annotation("Npgsql:ValueGenerationStrategy", NpgsqlValueGenerationStrategy.IdentityByDefaultColumn),
                    uid = table.Column<long>(type: "bigint", nullable: false),
                    credential_id = table.Column<byte[]>(type: "bytea", maxLength: 1023, nullable: false),
                    public_key = table.Column<byte[]>(type: "bytea", maxLength: 2048, nullable: false),
                    sign_count = table.Column<long>(type: "bigint", nullable: false),
                    aaguid = table.Column<Guid>(type: "uuid", nullable: false),
                    name = table.Column<string>(type: "character varying(64)", maxLength: 64, nullable: false),
                    created = table.Column<long>(type: "bigint", nullable: false),
                    last_used = table.Column<long>(type: "bigint", nullable: true)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_member_passkeys", x => x.id);
                    table.ForeignKey(
                        name: "FK_member_passkeys_members_uid",
                        column: x => x.uid,
                        principalTable: "members",
                        principalColumn: "uid",
                        onDelete: ReferentialAction.Cascade);
                });

            migrationBuilder.CreateTable(
                name: "passkey_challenges",
                columns: table => new
                {
                    hash = table.Column<byte[]>(type: "bytea", maxLength: 32, nullable: false),
                    kind = table.Column<string>(type: "character varying(16)", maxLength: 16, nullable: false),
                    uid = table.Column<long>(type: "bigint", nullable: true),
                    options_json = table.Column<string>(type: "character varying(65536)", maxLength: 65536, nullable: false),
                    expires = table.Column<long>(type: "bigint", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_passkey_challenges", x => x.hash);
                });

            migrationBuilder.CreateTable(
                name: "passkey_users",
                columns: table => new
                {
                    uid = table.Column<long>(type: "bigint", nullable: false),
                    user_handle = table.Column<byte[]>(type: "bytea", maxLength: 64, nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_passkey_users", x => x.uid);
                    table.ForeignKey(
                        name: "FK_passkey_users_members_uid",
                        column: x => x.uid,
                        principalTable: "members",
                        principalColumn: "uid",
                        onDelete: ReferentialAction.Cascade);
                });

            migrationBuilder.CreateIndex(
                name: "ix_member_passkeys_uid",
                table: "member_passkeys",
                column: "uid");

            migrationBuilder.CreateIndex(
                name: "ux_member_passkeys_credential_id",
                table: "member_passkeys",
                column: "credential_id",
                unique: true);

            migrationBuilder.CreateIndex(
                name: "ix_passkey_challenges_expires",
                table: "passkey_challenges",
                column: "expires");

            migrationBuilder.CreateIndex(
                name: "ux_passkey_users_user_handle",
                table: "passkey_users",
                column: "user_handle",
                unique: true);
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropTable(
                name: "member_passkeys");

            migrationBuilder.DropTable(
                name: "passkey_challenges");

            migrationBuilder.DropTable(
                name: "passkey_users");
        }
    }
}
