using System;
using Microsoft.EntityFrameworkCore.Migrations;
using Npgsql.EntityFrameworkCore.PostgreSQL.Metadata;

#nullable disable

namespace Pan.Migrations.Postgres.Migrations
{
    /// <inheritdoc />
    public partial class Initial : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.CreateTable(
                name: "accounts",
                columns: table => new
                {
                    id = table.Column<long>(type: "bigint", nullable: false)
                        .Annotation("Npgsql:ValueGenerationStrategy", NpgsqlValueGenerationStrategy.IdentityByDefaultColumn),
                    phone_e164 = table.Column<string>(type: "character varying(20)", maxLength: 20, nullable: true),
                    phone_country_code = table.Column<int>(type: "integer", nullable: false),
                    default_member_uid = table.Column<long>(type: "bigint", nullable: true),
                    created = table.Column<long>(type: "bigint", nullable: false),
                    modified = table.Column<long>(type: "bigint", nullable: false),
                    deleted = table.Column<long>(type: "bigint", nullable: true),
                    version = table.Column<long>(type: "bigint", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_accounts", x => x.id);
                });

            migrationBuilder.CreateTable(
                name: "members",
                columns: table => new
                {
                    uid = table.Column<long>(type: "bigint", nullable: false)
                        .Annotation("Npgsql:ValueGenerationStrategy", NpgsqlValueGenerationStrategy.IdentityByDefaultColumn),
                    object_id = table.Column<Guid>(type: "uuid", nullable: false),
                    hash_uid = table.Column<string>(type: "character varying(64)", maxLength: 64, nullable: true),
                    account_id = table.Column<long>(type: "bigint", nullable: false),
                    display_name = table.Column<string>(type: "character varying(64)", maxLength: 64, nullable: true),
                    display_name_key = table.Column<string>(type: "character varying(128)", maxLength: 128, nullable: true),
                    username = table.Column<string>(type: "character varying(128)", maxLength: 128, nullable: true),
                    email = table.Column<string>(type: "character varying(254)", maxLength: 254, nullable: true),
                    email_key = table.Column<string>(type: "character varying(254)", maxLength: 254, nullable: true),
                    email_verified = table.Column<bool>(type: "boolean", nullable: false),
                    gender = table.Column<int>(type: "integer", nullable: false),
                    avatar_key = table.Column<string>(type: "character varying(200)", maxLength: 200, nullable: true),
                    vip_expire_date = table.Column<long>(type: "bigint", nullable: true),
                    activate_ip = table.Column<string>(type: "character varying(64)", maxLength: 64, nullable: true),
                    activate_date = table.Column<long>(type: "bigint", nullable: true),
                    is_owner = table.Column<bool>(type: "boolean", nullable: false),
                    migration_status = table.Column<int>(type: "integer", nullable: false),
                    locale = table.Column<string>(type: "character varying(16)", maxLength: 16, nullable: false),
                    created = table.Column<long>(type: "bigint", nullable: false),
                    modified = table.Column<long>(type: "bigint", nullable: false),
                    deleted = table.Column<long>(type: "bigint", nullable: true),
                    token_generation = table.Column<long>(type: "bigint", nullable: false),
                    version = table.Column<long>(type: "bigint", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_members", x => x.uid);
                    table.ForeignKey(
                        name: "FK_members_accounts_account_id",
                        column: x => x.account_id,
                        principalTable: "accounts",
                        principalColumn: "id",
                        onDelete: ReferentialAction.Restrict);
                });

            migrationBuilder.CreateIndex(
                name: "ux_accounts_phone",
                table: "accounts",
                column: "phone_e164",
                unique: true);

            migrationBuilder.CreateIndex(
                name: "ix_members_account_id",
                table: "members",
                column: "account_id");

            migrationBuilder.CreateIndex(
                name: "ux_members_display_name_key",
                table: "members",
                column: "display_name_key",
                unique: true);

            migrationBuilder.CreateIndex(
                name: "ux_members_email_key",
                table: "members",
                column: "email_key",
                unique: true);

            migrationBuilder.CreateIndex(
                name: "ux_members_hash_uid",
                table: "members",
                column: "hash_uid",
                unique: true);

            migrationBuilder.CreateIndex(
                name: "ux_members_object_id",
                table: "members",
                column: "object_id",
                unique: true);

            migrationBuilder.CreateIndex(
                name: "ux_members_username",
                table: "members",
                column: "username",
                unique: true);
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropTable(
                name: "members");

            migrationBuilder.DropTable(
                name: "accounts");
        }
    }
}
