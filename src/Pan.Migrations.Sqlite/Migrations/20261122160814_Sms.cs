using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Pan.Migrations.Sqlite.Migrations
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
                    id = table.Column<long>(type: "INTEGER", nullable: false)
                        .Annotation("Sqlite:Autoincrement", true),
                    phone_hash = table.Column<byte[]>(type: "BLOB", maxLength: 32, nullable: false),
                    country_code = table.Column<int>(type: "INTEGER", nullable: false),
                    ip = table.Column<string>(type: "TEXT", maxLength: 64, nullable: true),
                    purpose = table.Column<string>(type: "TEXT", maxLength: 32, nullable: false),
                    outcome = table.Column<int>(type: "INTEGER", nullable: false),
                    blocked_reason = table.Column<string>(type: "TEXT", maxLength: 32, nullable: true),
                    created = table.Column<long>(type: "INTEGER", nullable: false)
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
