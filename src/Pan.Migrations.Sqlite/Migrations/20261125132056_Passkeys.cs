using System;
using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Pan.Migrations.Sqlite.Migrations
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
                    id = table.Column<long>(type: "INTEGER", nullable: false)
                        .Annotation("Sqlite:Autoincrement", true),
                    uid = table.Column<long>(type: "INTEGER", nullable: false),
                    credential_id = table.Column<byte[]>(type: "BLOB", maxLength: 1023, nullable: false),
                    public_key = table.Column<byte[]>(type: "BLOB", maxLength: 2048, nullable: false),
                    sign_count = table.Column<long>(type: "INTEGER", nullable: false),
                    aaguid = table.Column<Guid>(type: "TEXT", nullable: false),
                    name = table.Column<string>(type: "TEXT", maxLength: 64, nullable: false),
                    created = table.Column<long>(type: "INTEGER", nullable: false),
                    last_used = table.Column<long>(type: "INTEGER", nullable: true)
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
                    hash = table.Column<byte[]>(type: "BLOB", maxLength: 32, nullable: false),
                    kind = table.Column<string>(type: "TEXT", maxLength: 16, nullable: false),
                    uid = table.Column<long>(type: "INTEGER", nullable: true),
                    options_json = table.Column<string>(type: "TEXT", maxLength: 65536, nullable: false),
                    expires = table.Column<long>(type: "INTEGER", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_passkey_challenges", x => x.hash);
                });

            migrationBuilder.CreateTable(
                name: "passkey_users",
                columns: table => new
                {
                    uid = table.Column<long>(type: "INTEGER", nullable: false),
                    user_handle = table.Column<byte[]>(type: "BLOB", maxLength: 64, nullable: false)
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
