# language: fr
Fonctionnalité: Nouvelles tentatives, incident et alerte de l'ASP en cas d'anomalie
  Quand l'API de retour de l'ASP refuse un retour en demandant de réessayer, le titulaire réessaie le même
  retour après le délai demandé (Retry-After), jusqu'à son acquittement, et ne le remet pas en double ensuite.
  Quand il ne parvient pas à le remettre malgré ses nouvelles tentatives, le dépôt passe en échec, un ticket
  d'incident est ouvert et un courriel d'alerte part vers l'adresse d'incident de l'ASP. Le harnais joue
  l'ASP : son API de retour refuse les appels de la plateforme, quelle qu'elle soit.

  @lent
  Scénario: Un retour refusé par l'ASP est réessayé, puis remis une seule fois après le rétablissement
    Étant donné le titulaire est joignable par l'ASP
    Et l'API de retour de l'ASP refuse ses 2 prochains appels en demandant de réessayer
    Et un dossier "RECETTE-REESSAIS" à l'itération 1
    Quand l'ASP dépose la pièce "avis.pdf"
    Alors le titulaire réessaie le retour refusé après le délai demandé par l'ASP, jusqu'à son acquittement
    Et aucun retour n'est remis en double après le rétablissement

  @lent
  Scénario: Un retour impossible à remettre ouvre un incident et alerte l'ASP par courriel
    Étant donné le titulaire est joignable par l'ASP
    Et l'API de retour de l'ASP est en panne et refuse chaque appel
    Et un dossier "RECETTE-INCIDENTS" à l'itération 1
    Quand l'ASP dépose la pièce "avis.pdf"
    Alors le titulaire renonce à remettre le retour après plusieurs tentatives et le dépôt passe en échec
    Et un incident est ouvert pour ce dépôt
    Et un courriel d'incident alerte l'ASP
