using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Pan.Migrations.Sqlite.Migrations
{
    /// <inheritdoc />
    public partial class PhoneBlocks : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.CreateTable(
                name: "blocked_phones",
                columns: table => new
                {
                    phone_e164 = table.Column<string>(type: "TEXT", maxLength: 20, nullable: false),
                    reason = table.Column<string>(type: "TEXT", maxLength: 500, nullable: false),
                    blocked_by = table.Column<string>(type: "TEXT", maxLength: 320, nullable: false),
                    created = table.Column<long>(type: "INTEGER", nullable: false),
                    expires = table.Column<long>(type: "INTEGER", nullable: true)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_blocked_phones", x => x.phone_e164);
                });
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropTable(
                name: "blocked_phones");
        }
    }
}
