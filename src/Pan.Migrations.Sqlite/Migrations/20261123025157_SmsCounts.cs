using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Pan.Migrations.Sqlite.Migrations
{
    /// <inheritdoc />
    public partial class SmsCounts : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropIndex(
                name: "ix_sms_sends_country_created",
                table: "sms_sends");

            migrationBuilder.DropIndex(
                name: "ix_sms_sends_ip_created",
                table: "sms_sends");

            migrationBuilder.DropIndex(
                name: "ix_sms_sends_phone_created",
                table: "sms_sends");

            migrationBuilder.CreateTable(
                name: "sms_counts",
                columns: table => new
                {
                    counter = table.Column<string>(type: "TEXT", maxLength: 80, nullable: false),
                    span = table.Column<int>(type: "INTEGER", nullable: false),
                    bucket = table.Column<long>(type: "INTEGER", nullable: false),
                    sends = table.Column<int>(type: "INTEGER", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_sms_counts", x => new { x.counter, x.span, x.bucket });
                });

            migrationBuilder.CreateIndex(
                name: "ix_sms_sends_created",
                table: "sms_sends",
                column: "created");
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropTable(
                name: "sms_counts");

            migrationBuilder.DropIndex(
                name: "ix_sms_sends_created",
                table: "sms_sends");

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
    }
}
