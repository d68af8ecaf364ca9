using Microsoft.EntityFrameworkCore.Migrations;
using Npgsql.EntityFrameworkCore.PostgreSQL.Metadata;

#nullable disable

namespace Pan.Migrations.Postgres.Migrations
{
    /// <inheritdoc />
    public partial class Sms : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
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
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropTable(
                name: "sms_sends");
        }
    }
}
