// Small behaviours shared by the console pages (no framework): filtering report tables.
// A checkbox with data-filter="<table id>" shows only the rows of class "row-refused".
for (const box of document.querySelectorAll("input[data-filter]")) {
  box.addEventListener("change", () => {
    const table = document.getElementById(box.dataset.filter);
    for (const row of table.tBodies[0].rows) row.hidden = box.checked && !row.classList.contains("row-refused");
  });
}
