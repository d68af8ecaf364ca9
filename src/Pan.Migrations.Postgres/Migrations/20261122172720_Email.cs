using Microsoft.EntityFrameworkCore.Migrations;
using Npgsql.EntityFrameworkCore.PostgreSQL.Metadata;

#nullable disable

namespace Pan.Migrations.Postgres.Migrations
{
    /// <inheritdoc />
    public partial class Email : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.CreateTable(
                name: "data_protection_keys",
                columns: table => new
                {
                    id = table.Column<long>(type: "bigint", nullable: false)
                        .Annotation("Npgsql:ValueGenerationStrategy", NpgsqlValueGenerationStrategy.IdentityByDefaultColumn),
                    friendly_name = table.Column<string>(type: "character varying(256)", maxLength: 256, nullable: true),
                    xml = table.Column<string>(type: "text", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_data_protection_keys", x => x.id);
                });

            migrationBuilder.CreateTable(
                name: "delivery_attempts",
                columns: table => new
                {
                    id = table.Column<long>(type: "bigint", nullable: false)
                        .Annotation("Npgsql:ValueGenerationStrategy", NpgsqlValueGenerationStrategy.IdentityByDefaultColumn),
                    purpose = table.Column<string>(type: "character varying(32)", maxLength: 32, nullable: false),
                    uid = table.Column<long>(type: "bigint", nullable: true),
                    target_hash = table.Column<byte[]>(type: "bytea", maxLength: 32, nullable: false),
                    ip = table.Column<string>(type: "character varying(64)", maxLength: 64, nullable: true),
                    outcome = table.Column<int>(type: "integer", nullable: false),
                    created = table.Column<long>(type: "bigint", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_delivery_attempts", x => x.id);
                });

            migrationBuilder.CreateTable(
                name: "email_codes",
                columns: table => new
                {
                    id = table.Column<long>(type: "bigint", nullable: false)
                        .Annotation("Npgsql:ValueGenerationStrategy", NpgsqlValueGenerationStrategy.IdentityByDefaultColumn),
                    uid = table.Column<long>(type: "bigint", nullable: false),
                    purpose = table.Column<string>(type: "character varying(32)", maxLength: 32, nullable: false),
                    address_key = table.Column<string>(type: "character varying(254)", maxLength: 254, nullable: false),
                    code_hash = table.Column<byte[]>(type: "bytea", maxLength: 32, nullable: false),
                    link_hash = table.Column<byte[]>(type: "bytea", maxLength: 32, nullable: false),
                    redirect = table.Column<string>(type: "character varying(2048)", maxLength: 2048, nullable: true),
                    created = table.Column<long>(type: "bigint", nullable: false),
                    expires = table.Column<long>(type: "bigint", nullable: false),
                    used_at = table.Column<long>(type: "bigint", nullable: true)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_email_codes", x => x.id);
                });

            migrationBuilder.CreateIndex(
                name: "ix_delivery_attempts_ip_created",
                table: "delivery_attempts",
                columns: new[] { "ip", "created" });

            migrationBuilder.CreateIndex(
                name: "ix_delivery_attempts_target_created",
                table: "delivery_attempts",
                columns: new[] { "target_hash", "created" });

            migrationBuilder.CreateIndex(
                name: "ix_delivery_attempts_uid_created",
                table: "delivery_attempts",
                columns: new[] { "uid", "created" });

            migrationBuilder.CreateIndex(
                name: "ix_email_codes_expires",
                table: "email_codes",
                column: "expires");

            migrationBuilder.CreateIndex(
                name: "ix_email_codes_uid_purpose",
                table: "email_codes",
                columns: new[] { "uid", "purpose" });

            migrationBuilder.CreateIndex(
                name: "ux_email_codes_code_hash",
                table: "email_codes",
                column: "code_hash",
                unique: true);

            migrationBuilder.CreateIndex(
                name: "ux_email_codes_link_hash",
                table: "email_codes",
                column: "link_hash",
                unique: true);
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropTable(
                name: "data_protection_keys");

            migrationBuilder.DropTable(
                name: "delivery_attempts");

            migrationBuilder.DropTable(
                name: "email_codes");
        }
    }
}
