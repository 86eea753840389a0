# language: fr
Fonctionnalité: Un retour unique par dépôt, avec toutes ses métadonnées
  Le titulaire transmet exactement un retour par dépôt sur l'API de retour de l'ASP. Ce retour porte
  toutes les métadonnées du dépôt, à l'identique : application source, référence du contrat quand elle
  est fournie, identifiant du dossier, données métier, numéro d'itération et empreinte lorsque l'option
  SAE est demandée.

  Contexte:
    Étant donné le titulaire est joignable par l'ASP
    Et un dossier "RECETTE-RETOURS" à l'itération 1

  Scénario: Le retour d'un dépôt complet porte chacune de ses métadonnées
    Étant donné le dossier relève du contrat "MARCHE-2025-017"
    Et l'option SAE est demandée avec l'empreinte des documents déposés
    Quand l'ASP dépose les pièces "avis.pdf" et "rib.pdf"
    Alors l'ASP reçoit exactement un retour pour le dépôt
    Et le retour porte toutes les métadonnées du dépôt :
      | métadonnée             |
      | application source     |
      | référence du contrat   |
      | identifiant du dossier |
      | données métier         |
      | numéro d'itération     |
      | empreinte SAE          |

  Scénario: Le retour d'un dépôt sans métadonnée facultative n'en invente aucune
    Quand l'ASP dépose la pièce "avis.pdf"
    Alors l'ASP reçoit exactement un retour pour le dépôt
    Et le retour porte toutes les métadonnées du dépôt :
      | métadonnée             |
      | application source     |
      | identifiant du dossier |
      | données métier         |
      | numéro d'itération     |
    Et le retour ne porte ni référence de contrat ni empreinte SAE, absentes du dépôt
