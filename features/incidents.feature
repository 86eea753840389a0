# language: fr
Fonctionnalité: Incident et alerte de l'ASP en cas d'anomalie
  Quand le titulaire ne parvient pas à remettre un retour malgré ses nouvelles tentatives, le dépôt
  passe en échec, un ticket d'incident est ouvert et un courriel d'alerte part vers l'ASP.

  @reference @lent
  Scénario: Un retour impossible à remettre ouvre un incident et alerte l'ASP par courriel
    Étant donné le titulaire est joignable par l'ASP
    Et l'API de retour de l'ASP est en panne et refuse chaque appel
    Et un dossier "RECETTE-INCIDENTS" à l'itération 1
    Quand l'ASP dépose la pièce "avis.pdf"
    Alors le titulaire renonce à remettre le retour après plusieurs tentatives et le dépôt passe en échec
    Et un incident est ouvert pour ce dépôt
    Et un courriel d'incident alerte l'ASP
