// Build a CSV of the source's rows, in the browser, and hand it to the user as a download.
const data = source.data
const columns = ["name", "salary", "years"]
const lines = [columns.join(",")]
for (let i = 0; i < source.get_length(); i++) {
  lines.push(columns.map((column) => String(data[column][i])).join(","))
}
const blob = new Blob([lines.join("\n") + "\n"], {type: "text/csv;charset=utf-8;"})
const link = document.createElement("a")
link.href = URL.createObjectURL(blob)
link.download = "salaries.csv"
link.style.display = "none"
document.body.appendChild(link)
link.click()
document.body.removeChild(link)
