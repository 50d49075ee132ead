// The print page's "Print" button (inline handlers are forbidden by the CSP).
document.addEventListener("click", (event) => {
  if (event.target.closest("[data-print]")) window.print();
});
